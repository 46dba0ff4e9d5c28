"""Type names as users write them read as one phrase per type."""

from __future__ import annotations

import pytest

from muie.tools.text.type_names import singular, split_run_together, type_phrase


@pytest.mark.parametrize("names, phrase", [
    (["PER", "Peop", "per", "person", "Person", "persons", "PERSON"], "person"),
    (["ORG", "Org", "organization", "organizations"], "organization"),
    (["LOC", "Loc", "location", "locations"], "location"),
    (["musicalartist", "musical_artist", "musicalArtist", "MusicalArtist", "musical-artist", "musical artists"],
     "musical artist"),
    (["programlang", "programming_language", "ProgrammingLanguage"], "programming language"),
    (["politicalparty", "political_parties", "PoliticalParty"], "political party"),
    (["Gene_or_gene_product"], "gene or gene product"),
    (["cities", "City"], "city"),
])
def test_spellings_of_one_type_read_alike(names, phrase):
    assert {type_phrase(n) for n in names} == {phrase}


def test_abbreviations_of_ontonotes_kinds_are_spelled_out():
    assert type_phrase("GPE") == "country, city or state"
    assert type_phrase("NORP") == "nationality, religious or political group"
    assert type_phrase("FAC") == "facility"
    assert type_phrase("MISC") == "miscellaneous"


def test_words_are_split_only_where_the_whole_is_no_word():
    assert split_run_together("literarygenre") == ["literary", "genre"]
    assert split_run_together("university") == ["university"]
    assert split_run_together("astronomicalobject") == ["astronomical", "object"]


def test_run_together_names_split_at_short_joining_words_and_keep_inflected_words_whole():
    # RAMS and GENEVA write their event types and roles this way
    assert type_phrase("placeofemployment") == "place of employment"
    assert type_phrase("deathcausedbyviolentevents") == "death caused by violent event"
    assert type_phrase("territoryorfacility") == "territory or facility"
    assert split_run_together("bringcarryunload") == ["bring", "carry", "unload"]
    assert split_run_together("arrestjaildetain") == ["arrest", "jail", "detain"]
    # a word the encoder's vocabulary has only without its ending stays whole
    assert [type_phrase(w) for w in ("Sender", "Addressee", "transporter", "Openness", "Hindering")] == [
        "sender", "addressee", "transporter", "openness", "hindering"]
    # a joining word never starts or ends a split
    assert type_phrase("ingestor") == "ingestor"


def test_singular_keeps_words_that_end_in_s():
    assert [singular(w) for w in ("species", "news", "bus", "countries", "boxes", "metrics", "genes")] == [
        "species", "news", "bus", "country", "box", "metrics", "gene"]


def test_event_types_and_roles_as_users_and_ontologies_write_them():
    from muie.tools.text.type_names import argument_phrase, event_phrase, role_phrase

    assert event_phrase("Life.Die.Unspecified") == "die"
    assert event_phrase("life.die.n/a") == "die"
    assert event_phrase("Attack") == "attack"
    assert event_phrase("Transfer-Ownership") == "transfer ownership"
    assert event_phrase("accident.crash.accidentcrash") == "accident crash"  # each word once
    assert role_phrase("evt089arg01victim") == "victim"
    assert role_phrase("Attack-Pattern") == "attack pattern"
    assert argument_phrase("Victim", "Life.Die.Unspecified") == "victim in die"

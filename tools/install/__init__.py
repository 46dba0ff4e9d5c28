"""What ``make`` runs to put the models in place: npm tarballs fetched, models converted."""

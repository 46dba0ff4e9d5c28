"""The best one-to-one pairing of rows and columns of a score matrix.

``max_assignment(score)`` is ``scipy.optimize.linear_sum_assignment(-score)``: pairs
(row, column), as many as the smaller side, with the largest total score, rows in
ascending order. The matrices the tools and the verifier solve are small (a few event
arguments against a few roles, a few entities against a few regions): up to
``SMALL`` rows and columns they are solved here by the Hungarian method, in plain
Python, because scipy's optimisation package takes half a second to import; larger
ones go to scipy. Among several best pairings the two may choose different ones.
"""

from __future__ import annotations

import numpy as np

SMALL = 64


def max_assignment(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the best pairing of ``score`` (larger is better)."""
    score = np.asarray(score, dtype=np.float64)
    r, c = score.shape
    if r == 0 or c == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    if max(r, c) > SMALL or not np.isfinite(score).all():
        from scipy.optimize import linear_sum_assignment

        return linear_sum_assignment(-score)
    if r <= c:
        cols = _hungarian((-score).tolist())
        return np.arange(r), np.asarray(cols, np.intp)
    rows = np.asarray(_hungarian((-score.T).tolist()), np.intp)  # row of each column
    order = np.argsort(rows)
    return rows[order], np.arange(c)[order]


def _hungarian(cost: list[list[float]]) -> list[int]:
    """The column of each row in a least-cost pairing of an ``n x m`` cost (``n <= m``):
    the Hungarian method with potentials, O(n^2 m)."""
    n, m = len(cost), len(cost[0])
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)  # owner[j]: the row (1-based) holding column j
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        least, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], inf, 0
            row = cost[i0 - 1]
            for j in range(1, m + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
                    if cur < least[j]:
                        least[j], way[j] = cur, j0
                    if least[j] < delta:
                        delta, j1 = least[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    least[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    out = [0] * n
    for j in range(1, m + 1):
        if owner[j]:
            out[owner[j] - 1] = j - 1
    return out

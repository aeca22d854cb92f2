"""
Dynamic time warping for alignment.engine.align, coarse to fine.

The first pass compares block averages of the features over the whole matrix
(blocks big enough to keep it within COARSE_CELLS); each later pass works at a
finer resolution only inside a band around the previous path, so time and
memory grow about linearly with the length of the audio.

Rows are reference frames, columns real ones. A row's cells are computed
together: the running minimum along the row (numpy's minimum.accumulate, or a
sliding-window minimum for rows of speech) stands in for the horizontal steps.
"""

import math

import numpy as np

from .audio import FRAME

#: The whole-matrix first pass is kept within this many cells by averaging more frames per block.
COARSE_CELLS = 40_000_000
#: Block sizes (in 10 ms frames) of the refining passes, and the band's radius (in that pass's
#: blocks) around the previous path.
REFINE = ((4, 24), (1, 20))
#: A frame of speech in the reference may last at most this many frames more in the real audio.
MAX_HOLD = 4
#: The gap price per frame: this quantile of the distances between random pairs of sounding frames.
#: (Pricing it above the typical cost of a match, measured by a first pass, was tried: forcing
#: unscripted speech onto the script then became the cheaper way, and a host-read ad was taken
#: for sentences more often; see docs/alignment-benchmark.md.)
GAP_QUANTILE = 0.1
#: Opening a skipped stretch costs this many seconds of gap price, once: an ad is skipped as one
#: block, not in pieces around a sentence moved into it.
OPEN_SECONDS = 0.5


def _blocks(feats, size):
    """Means of consecutive blocks of size frames (the last block may be shorter)."""
    if size == 1:
        return feats
    count = math.ceil(len(feats) / size)
    padded = np.zeros((count * size, feats.shape[1]), dtype=np.float64)
    padded[:len(feats)] = feats
    sums = padded.reshape(count, size, -1).sum(axis=1)
    lengths = np.full(count, size, dtype=np.float64)
    lengths[-1] = len(feats) - (count - 1) * size
    return (sums / lengths[:, None]).astype(np.float32)


def _gap_price(ref, real, ref_pauses, real_pauses, random):
    """
    (gap price, median) of the distances between random pairs of sounding frames (frames in
    pauses would make near pairs common in a recording with much silence, and the gap cheap).
    """
    count = 20000
    ref_sounding, real_sounding = np.flatnonzero(~ref_pauses), np.flatnonzero(~real_pauses)
    if len(ref_sounding) < 20 or len(real_sounding) < 20:
        ref_sounding, real_sounding = np.arange(len(ref)), np.arange(len(real))
    a = ref[random.choice(ref_sounding, count)]
    b = real[random.choice(real_sounding, count)]
    distances = np.sqrt(((a - b) ** 2).sum(axis=1))
    return float(np.quantile(distances, GAP_QUANTILE)), float(np.median(distances))


def _take(values, values_lo, lo, hi):
    """values (held for columns values_lo...) at columns lo..hi-1, infinity outside."""
    out = np.full(hi - lo, np.inf)
    a, b = max(lo, values_lo), min(hi, values_lo + len(values))
    if b > a:
        out[a - lo:b - lo] = values[a - values_lo:b - values_lo]
    return out


def _window_min(values, width):
    """(minimum, index of the latest minimum) of values[j - width + 1 .. j] for each j."""
    best, where = values.copy(), np.arange(len(values))
    covered = 1
    while covered < width:
        step = min(covered, width - covered, len(values))
        if step <= 0:
            break
        shifted = np.concatenate([np.full(step, np.inf), best[:-step]])
        shifted_where = np.concatenate([np.zeros(step, dtype=where.dtype), where[:-step]])
        take = shifted < best
        best = np.where(take, shifted, best)
        where = np.where(take, shifted_where, where)
        covered += step
    return best, where


#: Back-pointer codes: bit 0 says how a cell was reached from the row before (0 diagonal,
#: 1 down); on speech rows, the other bits how many steps right the path then took in the row;
#: on pause rows, the flags below (one step at a time, back to where the running minimum was set).
_LEFT_HELD, _LEFT_SKIP, _SKIPPING = 2, 4, 8


def _path(ref, real, lo, hi, gap, pauses, real_pauses, progress=None, opening=0.0):
    """
    The cheapest monotone path through the band (row i: ref frame i; columns lo[i]..hi[i]-1:
    real frames), steps diagonal, down (ref advances) or right (real advances).

    Right steps cost d and a row of speech may be held for at most MAX_HOLD of them (its frame
    may last MAX_HOLD + 1 times longer than eSpeak's); on pause rows of the reference
    (pauses[i]) they cost d without limit or, once opening has been paid, min(d, gap): only
    there can real audio be skipped, as material is put between sentences, not inside words.
    Likewise down steps cost d, or min(d, gap) on pause frames of the real audio
    (real_pauses[j]), where script that was not read can be passed over. Real frames before
    the path's start and after its end cost gap each, plus opening. Returns the path as
    (rows, columns) arrays, one cell per step.
    """
    rows = len(ref)
    real = real.astype(np.float64)
    ref = ref.astype(np.float64)
    real_norms = (real ** 2).sum(axis=1)
    backs = []
    previous, previous_lo = None, 0
    for i in range(rows):
        a, b = int(lo[i]), int(hi[i])
        row = ref[i]
        d = np.sqrt(np.maximum(real_norms[a:b] - 2 * (real[a:b] @ row) + row @ row, 0))
        if i == 0:
            columns = np.arange(a, b)
            arrive = d + columns * gap + np.where(columns > 0, opening, 0.0)  # after skipping the head
            back = np.zeros(b - a, dtype=np.int8)
        else:
            diagonal = _take(previous, previous_lo, a - 1, b - 1)
            down = _take(previous, previous_lo, a, b)
            # Script that was not read (a sentence cut in the studio) can be passed over at the
            # gap price too, where the real audio pauses.
            down = down + np.where(real_pauses[a:b], np.minimum(d, gap), d)
            diagonal = diagonal + d
            back = (diagonal > down).astype(np.int8)
            arrive = np.minimum(diagonal, down)
        if pauses[i]:
            # Two ways along a pause row: hold it (each frame costs d), or open a skipped
            # stretch (opening once, then min(d, gap) a frame). Bits 1 and 2 say a cell was
            # reached from its left in either; bit 3 that the skipping way is the cheaper.
            held_steps = np.cumsum(d)
            relative = arrive - held_steps
            best_held = np.minimum.accumulate(relative)
            skip_steps = np.cumsum(np.minimum(d, gap))
            relative_skip = arrive - skip_steps
            best_skip = np.minimum.accumulate(relative_skip)
            held, skipping = held_steps + best_held, skip_steps + best_skip + opening
            back |= np.where(relative > best_held, _LEFT_HELD, 0).astype(np.int8)
            back |= np.where(relative_skip > best_skip, _LEFT_SKIP, 0).astype(np.int8)
            back |= np.where(skipping < held, _SKIPPING, 0).astype(np.int8)
            previous = np.minimum(held, skipping)
        else:
            steps = np.cumsum(d)
            relative = arrive - steps
            best, where = _window_min(relative, MAX_HOLD + 1)
            back |= ((np.arange(b - a) - where) << 1).astype(np.int8)
            previous = steps + best
        previous_lo = a
        backs.append(back)
        if progress and i % 2000 == 0:
            progress(i / rows)
    tail = previous + (len(real) - 1 - np.arange(previous_lo, previous_lo + len(previous))) * gap
    tail[:-1] += opening
    j = previous_lo + int(np.argmin(tail))
    i = rows - 1
    path_i, path_j = [], []
    while True:
        path_i.append(i)
        path_j.append(j)
        code = int(backs[i][j - int(lo[i])])
        if pauses[i]:
            left = _LEFT_SKIP if code & _SKIPPING else _LEFT_HELD
            while int(backs[i][j - int(lo[i])]) & left:
                j -= 1
                path_i.append(i)
                path_j.append(j)
        else:
            for _ in range(code >> 1):
                j -= 1
                path_i.append(i)
                path_j.append(j)
        code = int(backs[i][j - int(lo[i])]) & 1
        if i == 0:
            break
        i -= 1
        if code == 0:
            j -= 1
    return np.array(path_i[::-1]), np.array(path_j[::-1])


def _band(path_i, path_j, factor, radius, rows, columns):
    """Per-row column ranges at a resolution factor times finer, radius blocks around the path."""
    coarse_rows = math.ceil(rows / factor)
    first = np.full(coarse_rows, np.iinfo(np.int64).max)
    last = np.full(coarse_rows, -1)
    np.minimum.at(first, path_i, path_j)
    np.maximum.at(last, path_i, path_j)
    fine = np.arange(rows) // factor
    lo = first[fine] * factor - radius
    hi = (last[fine] + 1) * factor + radius
    lo = np.maximum.accumulate(np.clip(lo, 0, columns - 1))
    hi = np.maximum.accumulate(np.clip(hi, 1, columns))
    hi = np.maximum(hi, lo + 1)
    return lo, hi


def warp(ref, real, pauses, real_pauses, progress):
    """
    The path at full resolution (10 ms frames) as (rows, columns), the distance at each of its
    cells, the gap price at that resolution and the median distance between random frames.
    pauses and real_pauses mark the frames of each recording where the other may be skipped.
    """
    random = np.random.default_rng(1)
    cells = len(ref) * len(real)
    # A multiple of the next pass's block size, so that blocks nest.
    factor = REFINE[0][0] * max(2, math.ceil(math.sqrt(cells / COARSE_CELLS) / REFINE[0][0]))
    levels = [(factor, None)] + [(size, radius) for size, radius in REFINE if size < factor]
    path = None
    for number, (size, radius) in enumerate(levels):
        a, b = _blocks(ref, size), _blocks(real, size)
        if path is None:
            lo, hi = np.zeros(len(a), dtype=np.int64), np.full(len(a), len(b), dtype=np.int64)
        else:
            ratio = levels[number - 1][0] // size
            lo, hi = _band(path[0], path[1], ratio, radius, len(a), len(b))
        level_pauses = _blocks(pauses[:, None].astype(np.float32), size)[:, 0] >= 0.5
        level_real_pauses = _blocks(real_pauses[:, None].astype(np.float32), size)[:, 0] >= 0.5
        gap, _ = _gap_price(a, b, level_pauses, level_real_pauses, random)
        opening = gap * OPEN_SECONDS / (size * FRAME)

        def report(fraction, number=number):
            if progress:
                progress((number + fraction) / len(levels))

        path = _path(a, b, lo, hi, gap, level_pauses, level_real_pauses, report, opening)
    gap, random_median = _gap_price(ref, real, pauses, real_pauses, random)
    distance = np.sqrt(((ref[path[0]].astype(np.float64) - real[path[1]]) ** 2).sum(axis=1))
    return path, distance, gap, random_median

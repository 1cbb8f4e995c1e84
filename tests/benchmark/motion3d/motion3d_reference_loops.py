"""Plain-loop re-statements of the reference metric definitions, used as independent expectations.

Written from the published descriptions (per frame, per joint, Python scalars), deliberately unlike the
vectorised implementations under test.
"""

from __future__ import annotations

import math

import numpy as np

NAMES = [
    "root", "lhip", "rhip", "belly", "lknee", "rknee", "spine", "lankle", "rankle", "chest", "ltoes", "rtoes",
    "neck", "linshoulder", "rinshoulder", "head", "lshoulder", "rshoulder", "lelbow", "relbow", "lwrist",
    "rwrist", "lhand", "rhand",
]  # fmt: skip


def kinetic_loop(p, dt=1 / 60, w=2, bug=True, up=1):
    T, J, _ = p.shape
    hor = [a for a in range(3) if a != up]
    feats = []
    for j in range(J):
        kh = kv = ee = 0.0
        for i in range(1, T):
            s = np.zeros(3)
            n = 0
            for o in range(-w, w + 1):
                k = i + o
                if k - 1 < 0 or k >= T:
                    continue
                s += p[k, j] - p[k - 1, j]
                n += 1
            v = s / (n * dt)
            kh += v[hor[0]] ** 2 + v[hor[1]] ** 2
            kv += v[up] ** 2
            a = np.zeros(3)
            n = 0
            for o in range(-w, w + 1):
                k = i + o
                if k - 1 < 0 or k + 1 >= T:
                    continue
                v2 = (p[k + 1, j] - p[k, j]) / dt
                v1 = p[k, j] - p[k - 1, j] / dt if bug else (p[k, j] - p[k - 1, j]) / dt
                a += (v2 - v1) / dt
                n += 1
            ee += math.sqrt(float(np.sum((a / n) ** 2)))
        feats += [kh / (T - 1), kv / (T - 1), ee / (T - 1)]
    return np.array(feats)


def _ang(j, k):
    c = float(np.dot(j, k) / (np.linalg.norm(j) * np.linalg.norm(k)))
    return math.degrees(math.acos(c)) if -1 <= c <= 1 else float("nan")


def manual_loop(p, tpf=1 / 120):
    # fixed SMPL-template joint positions (lshoulder, lelbow, rshoulder, lhip, rhip) the reference measures
    ls, le = (
        np.array([0.199113488, 0.236807942, -0.0180702247]),
        np.array([0.454445392, 0.221158922, -0.0410167128]),
    )
    rs = np.array([-0.191692337, 0.236928746, -0.0123055102])
    lh, rh = (
        np.array([0.0564076714, -0.323069185, 0.0109197125]),
        np.array([-0.0624834076, -0.331302464, 0.0150412619]),
    )
    hl, sw, hw = np.linalg.norm(ls - le), np.linalg.norm(ls - rs), np.linalg.norm(lh - rh)
    idx = {n: i for i, n in enumerate(NAMES)}
    out = []
    for f in range(1, len(p)):
        cur, prv = p[f], p[f - 1]

        def g(n, cur=cur):
            if n == "zero":
                return np.zeros(3)
            if n == "y_unit":
                return np.array([0.0, 1.0, 0.0])
            if n == "minus_y_unit":
                return np.array([0.0, -1.0, 0.0])
            if n == "y_min":
                return np.array([0.0, cur[:, 1].min(), 0.0])
            return cur[idx[n]]

        def h(n, prv=prv):
            return prv[idx[n]]

        def move(a, b, c, _d, t):
            v = (g(c) - g(a)) - (h(c) - h(a))
            d = g(b) - g(a)
            return np.dot(v, d) / np.linalg.norm(d) / tpf > t

        def nmove(a, b, c, d, t):
            v = (g(d) - g(a)) - (h(d) - h(a))
            n = np.cross(g(c) - g(a), g(b) - g(a))
            return np.dot(v, n) / np.linalg.norm(n) / tpf > t

        def plane(a, b, c, q, t):
            n = np.cross(g(c) - g(a), g(b) - g(a))
            return np.dot(n, g(q) - g(a)) / np.linalg.norm(n) > t

        def nplane(a, b, c, q, t):
            n = g(b) - g(a)
            return np.dot(n, g(q) - g(c)) / np.linalg.norm(n) > t

        def angle(a, b, c, d, r):
            x = _ang(g(b) - g(a), g(d) - g(c))
            return r[0] < x < r[1]

        def fast(a, t):
            return np.linalg.norm(g(a) - h(a)) / tpf > t

        out.append(
            [
                nmove("neck", "rhip", "lhip", "rwrist", 1.8 * hl),
                nmove("neck", "lhip", "rhip", "lwrist", 1.8 * hl),
                nplane("chest", "neck", "neck", "rwrist", 0.2 * hl),
                nplane("chest", "neck", "neck", "lwrist", 0.2 * hl),
                move("belly", "chest", "chest", "rwrist", 1.8 * hl),
                move("belly", "chest", "chest", "lwrist", 1.8 * hl),
                angle("relbow", "rshoulder", "relbow", "rwrist", (0, 110)),
                angle("lelbow", "lshoulder", "lelbow", "lwrist", (0, 110)),
                nplane("lshoulder", "rshoulder", "lwrist", "rwrist", 2.5 * sw),
                move("lwrist", "rwrist", "rwrist", "lwrist", 1.4 * hl),
                move("rwrist", "root", "lwrist", "root", 1.4 * hl),
                move("lwrist", "root", "rwrist", "root", 1.4 * hl),
                fast("rwrist", 2.5 * hl),
                fast("lwrist", 2.5 * hl),
                plane("root", "lhip", "ltoes", "rankle", 0.38 * hl),
                plane("root", "rhip", "rtoes", "lankle", 0.38 * hl),
                nplane("zero", "y_unit", "y_min", "rankle", 1.2 * hl),
                nplane("zero", "y_unit", "y_min", "lankle", 1.2 * hl),
                nplane("lhip", "rhip", "lankle", "rankle", 2.1 * hw),
                angle("rknee", "rhip", "rknee", "rankle", (0, 110)),
                angle("lknee", "lhip", "lknee", "lankle", (0, 110)),
                fast("rankle", 2.5 * hl),
                fast("lankle", 2.5 * hl),
                angle("neck", "root", "rshoulder", "relbow", (25, 180)),
                angle("neck", "root", "lshoulder", "lelbow", (25, 180)),
                angle("neck", "root", "rhip", "rknee", (50, 180)),
                angle("neck", "root", "lhip", "lknee", (50, 180)),
                plane("rankle", "neck", "lankle", "root", 0.5 * hl),
                angle("neck", "root", "zero", "y_unit", (70, 110)),
                nplane("zero", "minus_y_unit", "y_min", "rwrist", -1.2 * hl),
                nplane("zero", "minus_y_unit", "y_min", "lwrist", -1.2 * hl),
                fast("root", 2.3 * hl),
            ]
        )
    return np.array(out, dtype=float).mean(axis=0)


def bas_loop(joints, music_beats, sigma=5):
    """Beat align score of one sample: music-beat frame indices vs smoothed-speed minima."""
    from scipy.ndimage import gaussian_filter

    speed = [
        float(np.mean(np.linalg.norm(joints[t + 1] - joints[t], axis=-1))) for t in range(len(joints) - 1)
    ]
    s = gaussian_filter(np.array(speed), sigma)
    mins = [t for t in range(1, len(s) - 1) if s[t] < s[t - 1] and s[t] < s[t + 1]]
    total = 0.0
    for b in music_beats:
        d = min((m - b) ** 2 for m in mins)
        total += math.exp(-d / 18.0)
    return total / len(music_beats)


def pfc_loop(j, dt=1 / 30, up=2):
    flat = [a for a in range(3) if a != up]
    T = len(j)
    acc = []
    for t in range(T - 2):
        a = (j[t + 2, 0] - 2 * j[t + 1, 0] + j[t, 0]) / dt / dt
        a = a.copy()
        a[up] = max(a[up], 0.0)
        acc.append(math.sqrt(float(np.sum(a**2))))
    mx = max(acc)
    total = 0.0
    for t in range(T - 2):
        sp = [math.sqrt(sum((j[t + 2, f, d] - j[t + 1, f, d]) ** 2 for d in flat)) for f in (7, 10, 8, 11)]
        total += min(sp[0], sp[1]) * min(sp[2], sp[3]) * acc[t] / mx
    return total / (T - 2)

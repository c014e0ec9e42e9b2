"""Weights of the boundary scorer in chapters.py (logistic regression, log-odds).

Written by `python benchmarks/bench_chapters.py --train`; fitted only on tuning data:
the 3 `.dev` MIT physics lectures (L16, L22, L29) and 47 Wikipedia articles from
gensim's test data (articles 0-14, the `--split dev` set, and 35 onwards; the
benchmark's held-out articles 15-34 and `.ref` lectures were not used).
"""

BOUNDARY_BIAS = -5.303907
BOUNDARY_WEIGHTS: dict[str, float] = {
    "sem_cos2": -0.098744,
    "sem_dep2": -0.011749,
    "sem_cos4": -0.201002,
    "sem_dep4": 0.027238,
    "sem_cos8": -0.287325,
    "sem_dep8": 0.023435,
    "sem_cos16": -0.263683,
    "sem_dep16": 0.133813,
    "lex_cos2": -0.138794,
    "lex_dep2": 0.245715,
    "lex_cos4": -0.171416,
    "lex_dep4": -0.006458,
    "lex_cos8": -0.072447,
    "lex_dep8": -0.059703,
    "lex_cos16": -0.088480,
    "lex_dep16": 0.056220,
    "novelty": 0.050679,
    "subj1": 0.922393,
    "subj3": 0.327472,
    "year": -0.353454,
    "cont": -1.852083,
    "the": -0.400419,
    "prev_cont": -0.199745,
    "len": -0.012885,
    "prevlen": 0.373012,
    "cue": 1.122036,
    "weak": 1.106869,
    "stem_cos4": -0.306240,
    "stem_cos8": -0.048137,
    "sem_sideA3": -0.105843,
    "sem_sideB3": 0.120863,
    "sem_sideA8": 0.422042,
    "sem_sideB8": 0.163264,
    "lex_sideA3": -0.089043,
    "lex_sideB3": 0.027252,
    "lex_sideA8": 0.255530,
    "lex_sideB8": 0.110063,
    "capnew": 0.247943,
}

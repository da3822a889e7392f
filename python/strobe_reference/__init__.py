"""Strobe's PyTorch reference, the specification the Swift engine is checked against.

    model     the `strobe-dit` architecture (text encoder and denoiser)
    sampling  the samplers: flash (TVM), full, naive, two-pass classifier-free guidance
    weights   reading and writing Strobe weights files (numpy only)
    paths     where the repository checkout is, for code that reads or writes its files
"""

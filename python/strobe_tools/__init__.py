"""Tools around the Swift engine: the golden fixtures under Tests/, the fuzzers' seed corpora,
Strobe against the PyTorch reference, the README's grid, scene contact sheets and T5 conversion.
Each module runs as `python -m strobe_tools.NAME` (`--help` for its options).
"""

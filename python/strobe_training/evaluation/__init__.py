"""Evaluation of Strobe's default model (docs/architecture.md, its evaluation): attribute
classifiers trained on rendered scenes judge generated images; a Fréchet distance in the
classifier's feature space compares them with renders of the same scenes.

    classifier.py  the multi-head CNN, its training data (renders) and its cache
    metrics.py     attribute accuracy, the Fréchet distance, the grid seam ratio and seed variety
    generate.py    loading a checkpoint or weights file, running the samplers in batches; the
                   ImageModel protocol a v2 model implements to be evaluated the same way
    variety.py     the seed-variety prompts, their reference renders and the measurement
    sheet.py       the contact sheet (PNG grid with a tiny bitmap font)

strobe_training.evaluate is the command line (`python -m strobe_training.evaluate`).
"""

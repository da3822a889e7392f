"""Training, export and evaluation of Strobe's default model, and its training data.

    train         trains the default model from nothing, resumably (`python -m strobe_training.train`)
    export        a training checkpoint → a Strobe weights file (`python -m strobe_training.export`)
    evaluate      attribute accuracy, Fréchet distance and contact sheet (`python -m strobe_training.evaluate`)
    evaluation/   the classifier, metrics, batched generation and contact sheet behind `evaluate`
    scenes/       the procedural scene renderer and caption grammar (numpy only)
    object_probe  whether a model places the objects a prompt names (`python -m strobe_training.object_probe`)
    gap_probe     whether a model's output depends on the jump it is asked for (`python -m strobe_training.gap_probe`)
"""

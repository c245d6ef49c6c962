"""Stage two: train heads on cached features, and the model dir that holds one.

    config     the head's options (HeadConfig), with their defaults
    inputs     which cached columns feed the head
    head       the Keras head (the original recipe's), ensembles of heads
    channels/  what a model reads, one component each: the BERT head, the lexical model, both fused
    fusion     the fused channel's mix, and lexical in lexical.py: each written once, in TensorFlow ops
    metrics    accuracy, loss, F1, AUC: what training selects by and evaluate reports
    fit        training with early stopping, ensembles, refit
    model_dir  the model dir format, written and read here
    run        `train`: one cache, one model dir (also each sweep trial)
    sweep      many heads in parallel worker processes, resumable
    plots      learning curves and sweep figures
"""

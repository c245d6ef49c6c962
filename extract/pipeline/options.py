"""`extract`'s options, each declared once: the CLI's `mlbert extract` options, the API's keyword and
type checks and `mlbert.extract`'s docstring are all made from this list."""
from __future__ import annotations

from ...common.options import Option
from ...data.sources import TableOptions
from .. import runtimes
from ..encoders import handles
from ..features.settings import FEATURE_DTYPES, POOLINGS, TRUNCATIONS, FeatureSettings

RUNNERS = ("local", "beam")
SPLITS = ("train", "validation", "test")

EXTRACT = (
    Option("text_field", "str", TableOptions.text_field, "CSV/JSONL: the field holding the review."),
    Option("label_field", "str", TableOptions.label_field, "CSV/JSONL: the field holding the label."),
    Option("split_ratio", "float", TableOptions.split_ratio,
           "CSV/JSONL without a 'split' field: the share of rows (stratified, seeded) that is test; in a corpus "
           "of files, each row by a seeded hash of its id."),
    Option("encoder", "str", handles.DEFAULT_ENCODER,
           "TF Hub handle or local SavedModel folder (the default is the original recipe's small_bert "
           "L-4/H-128/A-2)."),
    Option("preprocessor", "str", handles.DEFAULT_PREPROCESSOR, "TF Hub handle or local SavedModel folder."),
    Option("splits", "list", None, f"Splits to extract, e.g. train,test: any of {', '.join(SPLITS)}.",
           default_text="every split the data has; IMDB: train,test"),
    Option("labels", "list", None, "CSV/JSONL: the classes in this order, e.g. negative,neutral,positive; a row "
           "with another label is an error.", default_text="the labels found, sorted (as numbers when all are "
           "integers)"),
    Option("seq_len", "int", FeatureSettings.seq_len, "Tokens per sequence, [CLS]/[SEP] included."),
    Option("truncation", "str", FeatureSettings.truncation, "Which tokens of a long review to keep (head+tail: the "
           "first quarter of --seq-len, at most 128 tokens, and the rest from the end).", choices=TRUNCATIONS),
    Option("windows", "bool", FeatureSettings.windows,
           "Encode the whole review in windows of --seq-len and pool them."),
    Option("stride", "int", FeatureSettings.stride, "With --windows: tokens between window starts.",
           default_text="half a window"),
    Option("pooling", "list", FeatureSettings.poolings,
           f"Poolings to store side by side: any of {','.join(POOLINGS)}."),
    Option("ngrams", "int", FeatureSettings.ngrams, "Also cache each review's hashed word n-grams of 1..N tokens "
           "(the lexical channel, for train --channel lexical|fused); 0: none, 3: uni-, bi- and trigrams."),
    Option("segments", "bool", FeatureSettings.segments, "With --windows: also store every window's pooled "
           "features (per-segment), beside each review's, so that stage two can learn how to combine them; the "
           "cache grows by about the windows per review (docs/results.md measures it)."),
    Option("tokens", "bool", FeatureSettings.tokens, "Also store every token's features (each layer's output at "
           "each token the encoder saw, [CLS] and [SEP] included), beside each review's, for heads over tokens "
           "(train --segments attention). For sentences and short texts: a token costs layers x hidden values, "
           "2,304 for all-MiniLM-L6-v2 (4.6 kB with --feature-dtype float16)."),
    Option("precision", "str", FeatureSettings.precision, "The encoder call's arithmetic: fp32, or bf16 or int8 "
           "on OpenVINO (pip install 'multilayer-bert-sentiment[fast]'), int8 quantised once per encoder and "
           "--seq-len on a built-in corpus and kept in $MLBERT_CACHE_DIR (default ~/.cache/mlbert). See "
           "docs/precision.md for speed and accuracy.", choices=runtimes.PRECISIONS),
    Option("runtime", "str", FeatureSettings.runtime, "What runs the encoder call: tensorflow (fp32) or openvino "
           "(fp32, bf16, int8).", choices=tuple(runtimes.RUNTIMES),
           default_text="tensorflow for fp32, openvino for bf16 and int8"),
    Option("feature_dtype", "str", FeatureSettings.feature_dtype, "How the cache stores the features: float16 "
           "halves its size and train's reading time (docs/scale.md measures what it costs in accuracy).",
           choices=FEATURE_DTYPES),
    Option("batch_size", "int", 32, "Encoder batch: about N x 128 tokens per call (N sequences of 128 tokens; "
           "more sequences when shorter, fewer when longer)."),
    Option("limit", "int", None, "First N reviews per split (seeded order, balanced; a corpus of files: the first "
           "N in file order).", default_text="all"),
    Option("shard_size", "int", 4000, "Reviews per HDF5 shard (a corpus of files: rows per slice, a unit of work, "
           "which writes a shard per split it holds)."),
    Option("runner", "str", "local", "beam: run stage one as an Apache Beam pipeline (pip install "
           "'multilayer-bert-sentiment[beam]').", choices=RUNNERS),
    Option("beam_option", "str", (), "Beam pipeline option KEY=VALUE, repeatable, e.g. runner=DataflowRunner.",
           repeat=True, default_text="none"),
    Option("overwrite", "bool", False, "Replace a cache in --out made with other settings."),
)

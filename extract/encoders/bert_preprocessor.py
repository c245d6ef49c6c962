"""A BERT text preprocessor with the TF Hub interface, on tensorflow-text's WordPiece.

`tokenize(strings)` gives a RaggedTensor [batch, words, wordpieces] of int32 ids;
`bert_pack_inputs([segment, ...], seq_length)` adds [CLS]/[SEP], trims round-robin and pads;
calling the module on strings packs a single segment at 128 tokens, as TF Hub's
`bert_en_uncased_preprocess/3` does.
"""
from __future__ import annotations

from pathlib import Path

import tensorflow as tf
import tensorflow_text as text

from ...common.errors import BadInput

DEFAULT_SEQ_LENGTH = 128


def read_vocab(path: Path) -> list[str]:
    try:
        tokens = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read the WordPiece vocabulary ({e})")
    for special in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"):
        if special not in tokens:
            raise BadInput(f"{path}: the vocabulary has no {special} token; pass a BERT vocab.txt")
    return tokens


class BertPreprocessor(tf.Module):
    def __init__(self, vocab_path: Path, lower_case: bool = True):
        super().__init__(name="bert_preprocessor")
        tokens = read_vocab(vocab_path)
        self.cls_id = tokens.index("[CLS]")
        self.sep_id = tokens.index("[SEP]")
        self.pad_id = tokens.index("[PAD]")
        self.vocab_file = tf.saved_model.Asset(str(vocab_path))
        self.lower_case = lower_case
        # Normalisation is done here, not by tensorflow-text, to match the Hugging Face BertTokenizer
        # the checkpoints were trained with: tf-text's case_fold_utf8 is NFKC case folding, which maps
        # e.g. the fullwidth comma to ',' where BERT's own lower() keeps it.
        self.tokenizer = text.BertTokenizer(
            str(vocab_path), token_out_type=tf.int64, lower_case=False, unknown_token="[UNK]")

    def _normalize(self, strings):
        # As BERT's _clean_text: tab/newline/CR are spaces; other control and format characters
        # (and U+FFFD, left by decoding with replacement) are dropped.
        strings = tf.strings.regex_replace(strings, r"[\t\n\r]", " ")
        strings = tf.strings.regex_replace(strings, r"[\p{Cc}\p{Cf}\x{FFFD}]", "")
        if self.lower_case:
            strings = tf.strings.lower(strings, encoding="utf-8")
            strings = text.normalize_utf8(strings, "NFD")
            strings = tf.strings.regex_replace(strings, r"\p{Mn}", "")
        return strings

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(self, strings):
        return tf.cast(self.tokenizer.tokenize(self._normalize(strings)), tf.int32)

    def _pack(self, segments, seq_length):
        segments = [s.merge_dims(1, 2) if s.ragged_rank == 2 else s for s in segments]
        trimmed = text.RoundRobinTrimmer(max_seq_length=seq_length - len(segments) - 1).trim(segments)
        ids, type_ids = text.combine_segments(
            trimmed, start_of_sequence_id=self.cls_id, end_of_segment_id=self.sep_id)
        word_ids, mask = text.pad_model_inputs(ids, max_seq_length=seq_length, pad_value=self.pad_id)
        type_ids, _ = text.pad_model_inputs(type_ids, max_seq_length=seq_length)
        return {"input_word_ids": tf.cast(word_ids, tf.int32),
                "input_mask": tf.cast(mask, tf.int32),
                "input_type_ids": tf.cast(type_ids, tf.int32)}

    @tf.function
    def bert_pack_inputs(self, segments, seq_length=DEFAULT_SEQ_LENGTH):
        return self._pack(segments, seq_length)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, strings):
        return self._pack([self.tokenize(strings)], DEFAULT_SEQ_LENGTH)

    def trace_for_saving(self):
        """Trace bert_pack_inputs for one and two segments, of words or of flat tokens, any seq_length."""
        length = tf.TensorSpec([], tf.int32)
        for rank in (1, 2):
            spec = tf.RaggedTensorSpec([None] + [None] * rank, tf.int32, ragged_rank=rank)
            for count in (1, 2):
                self.bert_pack_inputs.get_concrete_function([spec] * count, length)

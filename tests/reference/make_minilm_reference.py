"""Write the reference outputs that tests/test_import_fidelity.py compares our encoder against.

An independent implementation: PyTorch `transformers.BertModel` and the Hugging Face tokenizer on the
same checkpoint. Run once, outside the default test environment:

    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch transformers safetensors numpy
    .venv-ref/bin/python tests/reference/make_minilm_reference.py ../shared/models/all-MiniLM-L6-v2

It writes tests/reference/minilm_reference.npz: the texts, their token ids and every layer's output
for every token (each text run alone, unpadded, at most 128 tokens).
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers

TEXTS = [
    "This movie was fantastic! Great acting and storyline.",
    "The film was excellent, with amazing performances by the entire cast.",
    "Terrible film. Complete waste of time and money.",
    "I hated this movie. The plot made no sense and the acting was terrible.",
    "I went and saw this movie last night after being coaxed to by a few friends of mine.<br /><br />"
    "I'll admit that I was reluctant to see it because from what I knew of Ashton Kutcher he was only "
    "able to do comedy. I was wrong. Kutcher played the character of Jake Fischer very well, and Kevin "
    "Costner played Ben Randall with such professionalism. The sign of a good movie is that it can toy "
    "with our emotions. This one did exactly that. The entire theater (which was sold out) was overcome "
    "by laughter during the first half of the movie, and were moved to tears during the second half. "
    "While exiting the theater I not only saw many women in tears, but many full grown men as well, "
    "trying desperately not to let anyone see them crying. This movie was great, and I suggest that you "
    "go see it before you judge.",
    "Café, naïve, résumé, Señor, Zoë and Ångström: accents everywhere.",
    "ALL CAPITALS SHOUTING ABOUT THIS AWFUL MOVIE!!!",
    "MiXeD CaSe WoRdS aNd McDonald's O'Brien",
    "Punctuation... lots of it?! (really) [yes] {no} \"quoted\" 'single' -- dashes; semi: colon/slash\\",
    "Numbers: 1, 22, 333, 4444, 3.14159, 1,000,000 and 10/10 or 2/10 stars; $5.99, 50% off, #1 in 2011.",
    "中文电影很好看，我非常喜欢。",
    "日本の映画はとても面白かったです",
    "한국 영화 최고",
    "Emoji 😀😂👍🎬 and ❤️ hearts ✨",
    "a",
    "!",
    "   leading and trailing whitespace   \t\n",
    "Tabs\tand\nnewlines\r\ninside",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "The Russian title Сталкер and the Greek Ταινία, Arabic فيلم, Hebrew סרט.",
    "don't won't can't shouldn't it's I'm you're they've",
    "email me at someone@example.com or visit http://www.imdb.com/title/tt0000001/",
    "8/10 - would watch again. 1/10 - never again. ~~~ *** ### @@@ ^^^ &&&",
    "Fullwidth ＡＢＣ１２３，ｆｉｌｍ and Straße, soft\u00adhyphen, zero\u200bwidth, family 👩\u200d👩\u200d👧",
    "<br />A review with <i>html</i> &amp; entities &quot;inside&quot;<br /><br />",
]
MAX_TOKENS = 128


def main(folder: str) -> None:
    folder = Path(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    model = transformers.BertModel.from_pretrained(str(folder), add_pooling_layer=True)
    model.eval()
    ids, layers = [], []
    for text in TEXTS:
        enc = tokenizer(text, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        with torch.no_grad():
            out = model(**enc, output_hidden_states=True)
        ids.append(enc["input_ids"][0].numpy().astype(np.int32))
        # hidden_states[0] is the embedding layer; 1..L are the encoder layers.
        layers.append(np.stack([h[0].numpy() for h in out.hidden_states[1:]]).astype(np.float32))
    lengths = np.array([len(i) for i in ids], np.int32)
    out_path = Path(__file__).with_name("minilm_reference.npz")
    np.savez_compressed(
        out_path,
        texts=np.array(json.dumps(TEXTS)),
        lengths=lengths,
        token_ids=np.concatenate(ids),
        layer_outputs=np.concatenate(layers, axis=1),  # [layers, total tokens, hidden]
        versions=np.array(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__})),
    )
    print(f"wrote {out_path}: {len(TEXTS)} texts, {lengths.sum()} tokens, "
          f"{out_path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/models/all-MiniLM-L6-v2")

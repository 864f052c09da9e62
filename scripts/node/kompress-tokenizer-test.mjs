// The Kompress reference's tokenizer against Hugging Face's own: each model's
// tokenizer.json of testdata/kompress-ref is loaded by @huggingface/tokenizers
// (tokenizers.js), every word of every text is encoded alone, as the Python
// tokenizer does with is_split_into_words, and the ids must be those of
// expected.json, which libhr's test matches in turn. A word encoded with its
// special tokens must come out as [CLS] word [SEP].
//   node scripts/node/kompress-tokenizer-test.mjs
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const refDir = join(root, "testdata", "kompress-ref");
let failures = 0;

for (const model of readdirSync(refDir).sort()) {
    const dir = join(refDir, model);
    const tj = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
    const tok = new Tokenizer(tj, {});
    let words = 0, tokens = 0, bad = [];
    for (const text of expected.texts) {
        const all = text.text.split(/[\s\u001c-\u001f\u0085]+/u).filter((w) => w.length);
        for (const chunk of text.chunks) {
            let ids = [];
            for (let w = chunk.first_word; w < chunk.end_word; w++) {
                ids = ids.concat(tok.encode(all[w], { add_special_tokens: false }).ids);
                words++;
            }
            const want = chunk.ids.slice(1, -1);
            ids = ids.slice(0, want.length); // a single word longer than a window is cut
            tokens += want.length;
            if (JSON.stringify(ids) !== JSON.stringify(want)) bad.push(`${text.name} words ${chunk.first_word}..${chunk.end_word}`);
        }
    }
    const framed = tok.encode("word", { add_special_tokens: true }).ids;
    const cls = tj.added_tokens.find((t) => t.content === "[CLS]").id, sep = tj.added_tokens.find((t) => t.content === "[SEP]").id;
    const label = `kompress tokenizer ${model}: ${words} words, ${tokens} tokens encoded by tokenizers.js as in expected.json`;
    if (bad.length) {
        failures++;
        console.log(`not ok ${label}: differ in ${bad.slice(0, 3).join("; ")}`);
    } else {
        console.log(`ok ${label}`);
    }
    if (framed[0] !== cls || framed[framed.length - 1] !== sep) {
        failures++;
        console.log(`not ok kompress tokenizer ${model}: special tokens frame a word as ${framed}`);
    } else {
        console.log(`ok kompress tokenizer ${model}: a word with special tokens is [CLS] word [SEP]`);
    }
}
process.exit(failures ? 1 : 0);

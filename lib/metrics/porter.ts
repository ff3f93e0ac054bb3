/**
 * The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980) in the mode NLTK uses
 * by default, NLTK_EXTENSIONS, which is what rouge-score stems with. On top of the paper it has Martin Porter's own
 * later changes ('bli' → 'ble' in place of 'abli' → 'able', 'logi' → 'log') and NLTK's:
 * - a few irregular forms looked up whole ('skies' → 'sky', 'dying' → 'die', 'news' → 'news', …);
 * - words of one or two letters are left alone;
 * - step 1a: a four-letter word in -ies becomes -ie ('dies' → 'die');
 * - step 1b: -ied becomes -ie in a four-letter word and -i otherwise ('died' → 'die', 'spied' → 'spi');
 * - step 1c: y → i only after a consonant that is not the word's first letter ('happy' → 'happi', 'enjoy', 'by');
 * - step 2: -alli → -al is tried first and the result goes through step 2 again; -fulli → -ful; the 'l' of -logi
 *   counts in the measure ('geologi' → 'geolog');
 * - the condition *o also holds for a two-letter stem vowel–consonant ('at', 'is').
 *
 * Words are expected in lower case (rouge-score's tokens are [a-z0-9]+); any character other than a, e, i, o, u and
 * a vowel-like y is a consonant, digits included.
 */

const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ['sky', 'sky'], ['skies', 'sky'], ['dying', 'die'], ['lying', 'lie'], ['tying', 'tie'], ['news', 'news'],
  ['innings', 'inning'], ['inning', 'inning'], ['outings', 'outing'], ['outing', 'outing'],
  ['cannings', 'canning'], ['canning', 'canning'], ['howe', 'howe'], ['proceed', 'proceed'], ['exceed', 'exceed'],
  ['succeed', 'succeed'],
]);

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

/** The paper's consonant: not a, e, i, o, u, and not a y that follows a consonant. */
function isConsonant(w: string, i: number): boolean {
  const c = w[i]!;
  if (VOWELS.has(c)) return false;
  if (c === 'y') return i === 0 || !isConsonant(w, i - 1);
  return true;
}

/** The measure m of [C](VC)^m[V]: the number of vowel-to-consonant changes. */
function measure(stem: string): number {
  let m = 0;
  for (let i = 1; i < stem.length; i++) if (!isConsonant(stem, i - 1) && isConsonant(stem, i)) m++;
  return m;
}

/** *v*: the stem contains a vowel. */
function hasVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

/** *d: the stem ends with a double consonant. */
function endsDoubleConsonant(w: string): boolean {
  const n = w.length;
  return n >= 2 && w[n - 1] === w[n - 2] && isConsonant(w, n - 1);
}

/** *o: the stem ends consonant–vowel–consonant, the last not w, x or y; NLTK also takes a two-letter vowel–consonant. */
function endsCvc(w: string): boolean {
  const n = w.length;
  if (n >= 3) {
    return isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1) && !'wxy'.includes(w[n - 1]!);
  }
  return n === 2 && !isConsonant(w, 0) && isConsonant(w, 1);
}

type Rule = readonly [suffix: string, replacement: string, condition: (stem: string) => boolean];

/**
 * The paper's rule lists: the first rule whose suffix the word ends with is the only one considered; the word
 * changes if the rest (the stem) meets the rule's condition, and is kept as it is otherwise.
 */
function applyFirst(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const m0 = (stem: string): boolean => measure(stem) > 0;
const m1 = (stem: string): boolean => measure(stem) > 1;
const always = (): boolean => true;

function step1a(w: string): string {
  if (w.length === 4 && w.endsWith('ies')) return w.slice(0, -1);
  return applyFirst(w, [['sses', 'ss', always], ['ies', 'i', always], ['ss', 'ss', always], ['s', '', always]]);
}

function step1b(w: string): string {
  if (w.endsWith('ied')) return w.slice(0, -3) + (w.length === 4 ? 'ie' : 'i');
  if (w.endsWith('eed')) return m0(w.slice(0, -3)) ? w.slice(0, -1) : w;
  let stem: string;
  if (w.endsWith('ed') && hasVowel(w.slice(0, -2))) stem = w.slice(0, -2);
  else if (w.endsWith('ing') && hasVowel(w.slice(0, -3))) stem = w.slice(0, -3);
  else return w;
  // Tidying after -ed/-ing: restore the -e of -ate, -ble, -ize (so steps 2–4 see them), undouble a final
  // consonant other than l, s, z ('hopp' → 'hop'), or add -e to a short cvc stem ('fil' → 'file').
  if (stem.endsWith('at') || stem.endsWith('bl') || stem.endsWith('iz')) return `${stem}e`;
  if (endsDoubleConsonant(stem)) return 'lsz'.includes(stem[stem.length - 1]!) ? stem : stem.slice(0, -1);
  return measure(stem) === 1 && endsCvc(stem) ? `${stem}e` : stem;
}

function step1c(w: string): string {
  return applyFirst(w, [['y', 'i', (stem) => stem.length > 1 && isConsonant(stem, stem.length - 1)]]);
}

function step2(w: string): string {
  if (w.endsWith('alli') && m0(w.slice(0, -4))) return step2(w.slice(0, -2));
  return applyFirst(w, [
    ['ational', 'ate', m0], ['tional', 'tion', m0], ['enci', 'ence', m0], ['anci', 'ance', m0], ['izer', 'ize', m0],
    ['bli', 'ble', m0], ['alli', 'al', m0], ['entli', 'ent', m0], ['eli', 'e', m0], ['ousli', 'ous', m0],
    ['ization', 'ize', m0], ['ation', 'ate', m0], ['ator', 'ate', m0], ['alism', 'al', m0], ['iveness', 'ive', m0],
    ['fulness', 'ful', m0], ['ousness', 'ous', m0], ['aliti', 'al', m0], ['iviti', 'ive', m0], ['biliti', 'ble', m0],
    ['fulli', 'ful', m0], ['logi', 'log', (stem) => m0(`${stem}l`)],
  ]);
}

function step3(w: string): string {
  return applyFirst(w, [
    ['icate', 'ic', m0], ['ative', '', m0], ['alize', 'al', m0], ['iciti', 'ic', m0], ['ical', 'ic', m0],
    ['ful', '', m0], ['ness', '', m0],
  ]);
}

function step4(w: string): string {
  return applyFirst(w, [
    ['al', '', m1], ['ance', '', m1], ['ence', '', m1], ['er', '', m1], ['ic', '', m1], ['able', '', m1],
    ['ible', '', m1], ['ant', '', m1], ['ement', '', m1], ['ment', '', m1], ['ent', '', m1],
    ['ion', '', (stem) => m1(stem) && (stem.endsWith('s') || stem.endsWith('t'))], ['ou', '', m1], ['ism', '', m1],
    ['ate', '', m1], ['iti', '', m1], ['ous', '', m1], ['ive', '', m1], ['ize', '', m1],
  ]);
}

/** Step 5a tries both of its rules (m > 1, then m = 1 and not *o), unlike the lists above. */
function step5a(w: string): string {
  if (!w.endsWith('e')) return w;
  const stem = w.slice(0, -1);
  const m = measure(stem);
  return m > 1 || (m === 1 && !endsCvc(stem)) ? stem : w;
}

function step5b(w: string): string {
  return w.endsWith('ll') && m1(w.slice(0, -1)) ? w.slice(0, -1) : w;
}

/** The stem of a lower-case word, as NLTK's `PorterStemmer().stem(word)`. */
export function porterStem(word: string): string {
  const irregular = IRREGULAR.get(word);
  if (irregular !== undefined) return irregular;
  if (word.length <= 2) return word;
  return step5b(step5a(step4(step3(step2(step1c(step1b(step1a(word))))))));
}

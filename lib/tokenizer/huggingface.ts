/**
 * Reads Hugging Face's tokenizer.json into a {@link Pipeline}. Supported: models BPE (plain, with
 * `continuing_subword_prefix` / `end_of_word_suffix`, byte-level as GPT-2 and RoBERTa, byte fallback),
 * WordPiece (BERT) and WordLevel; the normalizers, pre-tokenizers, post-processors and decoders these use.
 * Anything else is a FormatError that names the component and lists what is supported. `truncation` and
 * `padding` are batching settings of the Python library and are ignored.
 */
import { describe } from '../check.js';
import { FormatError } from '../errors.js';
import type { AddedToken } from './added_tokens.js';
import * as dec from './decoder.js';
import { BpeModel } from './models/bpe.js';
import type { Model } from './models/model.js';
import { WordLevelModel } from './models/word_level.js';
import { WordPieceModel } from './models/wordpiece.js';
import * as norm from './normalizer.js';
import type { PostProcessor } from './post_processor.js';
import * as pre from './pre_tokenizer.js';
import type { Pipeline } from './tokenizer.js';
import { Vocab } from './vocab.js';

type Json = Record<string, unknown>;

function bad(expected: string, where: string, value: unknown): never {
  throw new FormatError(`Expected ${expected} for ${where} in tokenizer.json but received ${describe(value)}`);
}

function object(v: unknown, where: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('an object', where, v);
  return v as Json;
}

function array(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) bad('an array', where, v);
  return v;
}

function string(v: unknown, where: string, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') bad('a string', where, v);
  return v;
}

function optionalString(v: unknown, where: string): string | null {
  return v === undefined || v === null ? null : string(v, where);
}

function boolean(v: unknown, where: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') bad('true or false', where, v);
  return v;
}

function integer(v: unknown, where: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (!Number.isInteger(v) || (v as number) < 0) bad('an integer ≥ 0', where, v);
  return v as number;
}

function typeOf(j: Json, where: string, supported: readonly string[]): string {
  const type = string(j.type, `${where}.type`);
  if (!supported.includes(type)) bad(`one of the supported types (${supported.join(', ')})`, `${where}.type`, type);
  return type;
}

function pattern(v: unknown, where: string): { String: string } | { Regex: string } {
  const p = object(v, where);
  if (typeof p.String === 'string') return { String: p.String };
  if (typeof p.Regex === 'string') return { Regex: p.Regex };
  bad('{ "String": … } or { "Regex": … }', where, v);
}

function behavior(v: unknown, where: string): pre.SplitBehavior {
  const b = string(v, where, 'Isolated');
  if (!(pre.SPLIT_BEHAVIORS as readonly string[]).includes(b)) bad(`one of ${pre.SPLIT_BEHAVIORS.join(', ')}`, where, b);
  return b as pre.SplitBehavior;
}

/** Metaspace's `prepend_scheme`, or the older `add_prefix_space` flag it replaced. */
function prependScheme(j: Json, where: string): pre.PrependScheme {
  if (j.prepend_scheme === undefined) return boolean(j.add_prefix_space, `${where}.add_prefix_space`, true) ? 'always' : 'never';
  const s = string(j.prepend_scheme, `${where}.prepend_scheme`);
  if (s !== 'always' && s !== 'first' && s !== 'never') bad('one of always, first, never', `${where}.prepend_scheme`, s);
  return s;
}

const MODELS = ['BPE', 'WordPiece', 'WordLevel'];

function parseModel(v: unknown): Model {
  const where = 'model';
  const j = object(v, where);
  // Files from old versions of the library leave out the model's type; its fields tell it.
  const type = j.type !== undefined ? typeOf(j, where, MODELS) : 'merges' in j ? 'BPE' : 'continuing_subword_prefix' in j ? 'WordPiece' : 'WordLevel';
  const vocab = Vocab.fromObject(j.vocab, `${where}.vocab`);
  const unk = optionalString(j.unk_token, `${where}.unk_token`);
  if (type === 'WordPiece') {
    return new WordPieceModel(
      vocab, string(j.unk_token, `${where}.unk_token`, '[UNK]'), string(j.continuing_subword_prefix, `${where}.continuing_subword_prefix`, '##'),
      integer(j.max_input_chars_per_word, `${where}.max_input_chars_per_word`, 100),
    );
  }
  if (type === 'WordLevel') return new WordLevelModel(vocab, unk);
  if (j.dropout !== undefined && j.dropout !== null && j.dropout !== 0) {
    bad('null or 0 (BPE dropout is a training-time feature and is not supported)', `${where}.dropout`, j.dropout);
  }
  const merges = array(j.merges, `${where}.merges`).map((m, i): [string, string] => {
    const parts = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string' || typeof parts[1] !== 'string') {
      bad('"a b" or ["a", "b"]', `${where}.merges[${i}]`, m);
    }
    return [parts[0], parts[1]];
  });
  return new BpeModel(vocab, merges, {
    unkToken: unk,
    continuingSubwordPrefix: optionalString(j.continuing_subword_prefix, `${where}.continuing_subword_prefix`),
    endOfWordSuffix: optionalString(j.end_of_word_suffix, `${where}.end_of_word_suffix`),
    fuseUnk: boolean(j.fuse_unk, `${where}.fuse_unk`, false),
    byteFallback: boolean(j.byte_fallback, `${where}.byte_fallback`, false),
    ignoreMerges: boolean(j.ignore_merges, `${where}.ignore_merges`, false),
  });
}

function parseAddedTokens(v: unknown): AddedToken[] {
  if (v === undefined || v === null) return [];
  return array(v, 'added_tokens').map((t, i) => {
    const where = `added_tokens[${i}]`;
    const j = object(t, where);
    const content = string(j.content, `${where}.content`);
    if (!content) bad('a non-empty string', `${where}.content`, content);
    return {
      id: integer(j.id, `${where}.id`), content, special: boolean(j.special, `${where}.special`, false),
      singleWord: boolean(j.single_word, `${where}.single_word`, false), lstrip: boolean(j.lstrip, `${where}.lstrip`, false),
      rstrip: boolean(j.rstrip, `${where}.rstrip`, false), normalized: boolean(j.normalized, `${where}.normalized`, !j.special),
    };
  });
}

const NORMALIZERS = ['BertNormalizer', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'StripAccents', 'Strip', 'Replace', 'Prepend', 'Sequence'];

function parseNormalizer(v: unknown, where: string): norm.NormalizerStep {
  const j = object(v, where);
  const type = typeOf(j, where, NORMALIZERS);
  switch (type) {
    case 'BertNormalizer':
      return norm.bertNormalizer({
        cleanText: boolean(j.clean_text, `${where}.clean_text`, true),
        handleChineseChars: boolean(j.handle_chinese_chars, `${where}.handle_chinese_chars`, true),
        stripAccents: j.strip_accents === null || j.strip_accents === undefined ? null : boolean(j.strip_accents, `${where}.strip_accents`, false),
        lowercase: boolean(j.lowercase, `${where}.lowercase`, true),
      });
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD':
      return norm.unicodeForm(type);
    case 'Lowercase':
      return norm.lowercase();
    case 'StripAccents':
      return norm.stripAccents();
    case 'Strip':
      return norm.strip(boolean(j.strip_left, `${where}.strip_left`, true), boolean(j.strip_right, `${where}.strip_right`, true));
    case 'Replace':
      return norm.replace(pattern(j.pattern, `${where}.pattern`), string(j.content, `${where}.content`));
    case 'Prepend':
      return norm.prepend(string(j.prepend, `${where}.prepend`));
    default:
      return norm.sequence(array(j.normalizers, `${where}.normalizers`).map((n, i) => parseNormalizer(n, `${where}.normalizers[${i}]`)));
  }
}

const PRE_TOKENIZERS = ['ByteLevel', 'BertPreTokenizer', 'Whitespace', 'WhitespaceSplit', 'Metaspace', 'Digits', 'Punctuation', 'CharDelimiterSplit', 'Split', 'Sequence'];

function parsePreTokenizer(v: unknown, where: string): pre.PreTokenizerStep {
  const j = object(v, where);
  const type = typeOf(j, where, PRE_TOKENIZERS);
  switch (type) {
    case 'ByteLevel':
      return pre.byteLevel(
        boolean(j.add_prefix_space, `${where}.add_prefix_space`, true), boolean(j.use_regex, `${where}.use_regex`, true),
        boolean(j.trim_offsets, `${where}.trim_offsets`, true),
      );
    case 'BertPreTokenizer':
      return pre.bertPreTokenizer();
    case 'Whitespace':
      return pre.whitespace();
    case 'WhitespaceSplit':
      return pre.whitespaceSplit();
    case 'Metaspace':
      return pre.metaspace(string(j.replacement, `${where}.replacement`, '▁'), prependScheme(j, where), boolean(j.split, `${where}.split`, true));
    case 'Digits':
      return pre.digits(boolean(j.individual_digits, `${where}.individual_digits`, false));
    case 'Punctuation':
      return pre.punctuation(behavior(j.behavior, `${where}.behavior`));
    case 'CharDelimiterSplit':
      return pre.charDelimiterSplit(string(j.delimiter, `${where}.delimiter`));
    case 'Split':
      return pre.splitPattern(pattern(j.pattern, `${where}.pattern`), behavior(j.behavior, `${where}.behavior`), boolean(j.invert, `${where}.invert`, false));
    default:
      return pre.sequence(array(j.pretokenizers, `${where}.pretokenizers`).map((p, i) => parsePreTokenizer(p, `${where}.pretokenizers[${i}]`)));
  }
}

const POST_PROCESSORS = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'];

function parsePostProcessor(v: unknown, where: string): PostProcessor {
  const j = object(v, where);
  const type = typeOf(j, where, POST_PROCESSORS);
  const pairId = (p: unknown, at: string): number => {
    const a = array(p, at);
    return integer(a[1], `${at}[1]`);
  };
  switch (type) {
    case 'TemplateProcessing': {
      const specials = object(j.special_tokens ?? {}, `${where}.special_tokens`);
      const before: number[] = [];
      const after: number[] = [];
      let seen = false;
      array(j.single, `${where}.single`).forEach((item, i) => {
        const at = `${where}.single[${i}]`;
        const it = object(item, at);
        if (it.Sequence !== undefined) {
          seen = true;
          return;
        }
        const name = string(object(it.SpecialToken, `${at}.SpecialToken`).id, `${at}.SpecialToken.id`);
        const entry = specials[name];
        if (entry === undefined) bad(`a token of ${where}.special_tokens`, `${at}.SpecialToken.id`, name);
        const ids = array(object(entry, `${where}.special_tokens.${name}`).ids, `${where}.special_tokens.${name}.ids`);
        (seen ? after : before).push(...ids.map((id, k) => integer(id, `${where}.special_tokens.${name}.ids[${k}]`)));
      });
      if (!seen) bad('a template with { "Sequence": { "id": "A" } }', `${where}.single`, j.single);
      return { json: j, before, after };
    }
    case 'BertProcessing':
    case 'RobertaProcessing':
      return { json: j, before: [pairId(j.cls, `${where}.cls`)], after: [pairId(j.sep, `${where}.sep`)] };
    case 'ByteLevel':
      return { json: j, before: [], after: [] };
    default: {
      // Each processor wraps what the ones before it produced.
      const parts = array(j.processors, `${where}.processors`).map((p, i) => parsePostProcessor(p, `${where}.processors[${i}]`));
      return {
        json: j,
        before: [...parts].reverse().flatMap((p) => p.before),
        after: parts.flatMap((p) => p.after),
      };
    }
  }
}

const DECODERS = ['ByteLevel', 'WordPiece', 'Metaspace', 'BPEDecoder', 'Fuse', 'Strip', 'Replace', 'ByteFallback', 'Sequence'];

function parseDecoder(v: unknown, where: string): dec.DecoderStep {
  const j = object(v, where);
  const type = typeOf(j, where, DECODERS);
  switch (type) {
    case 'ByteLevel':
      return dec.byteLevel();
    case 'WordPiece':
      return dec.wordPiece(string(j.prefix, `${where}.prefix`, '##'), boolean(j.cleanup, `${where}.cleanup`, true));
    case 'Metaspace':
      return dec.metaspace(string(j.replacement, `${where}.replacement`, '▁'), prependScheme(j, where), boolean(j.split, `${where}.split`, true));
    case 'BPEDecoder':
      return dec.bpeDecoder(string(j.suffix, `${where}.suffix`, '</w>'));
    case 'Fuse':
      return dec.fuse();
    case 'Strip':
      return dec.strip(string(j.content, `${where}.content`), integer(j.start, `${where}.start`, 0), integer(j.stop, `${where}.stop`, 0));
    case 'Replace':
      return dec.replace(pattern(j.pattern, `${where}.pattern`), string(j.content, `${where}.content`));
    case 'ByteFallback':
      return dec.byteFallback();
    default:
      return dec.sequence(array(j.decoders, `${where}.decoders`).map((d, i) => parseDecoder(d, `${where}.decoders[${i}]`)));
  }
}

export function parseTokenizerJson(json: unknown): Pipeline {
  const root = object(json, 'tokenizer.json');
  const nullable = <T>(v: unknown, parse: (v: unknown, where: string) => T, where: string): T | null =>
    v === undefined || v === null ? null : parse(v, where);
  return {
    model: parseModel(root.model),
    addedTokens: parseAddedTokens(root.added_tokens),
    normalizer: nullable(root.normalizer, parseNormalizer, 'normalizer'),
    preTokenizer: nullable(root.pre_tokenizer, parsePreTokenizer, 'pre_tokenizer'),
    postProcessor: nullable(root.post_processor, parsePostProcessor, 'post_processor'),
    decoder: nullable(root.decoder, parseDecoder, 'decoder'),
  };
}

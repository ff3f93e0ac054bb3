/**
 * Names and layouts of PyTorch's translation tutorial model (`Seq2SeqTransformer`: nn.Transformer,
 * seq-first, with `src_tok_emb`, `tgt_tok_emb`, `positional_encoding`, `generator`) against ours. The
 * parameter layouts are the same (Linear weights [out, in], packed in_proj [3·d, d]); only names differ,
 * and the positional buffer, which PyTorch keeps as [maxLen, 1, d].
 *
 * @example
 * toPyTorchName('encoder.layers.0.selfAttn.inProjWeight');  // 'transformer.encoder.layers.0.self_attn.in_proj_weight'
 */
import { ShapeError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

// Ours → PyTorch, applied in order to dotted names.
const RULES: Array<[RegExp, string]> = [
  [/^srcEmbedding\./, 'src_tok_emb.embedding.'],
  [/^tgtEmbedding\./, 'tgt_tok_emb.embedding.'],
  [/^positionalEncoding\.table$/, 'positional_encoding.pos_embedding'],
  [/^(encoder|decoder)\./, 'transformer.$1.'],
  [/\.selfAttn\./, '.self_attn.'],
  [/\.crossAttn\./, '.multihead_attn.'],
  [/\.inProjWeight$/, '.in_proj_weight'],
  [/\.inProjBias$/, '.in_proj_bias'],
  [/\.outProj\./, '.out_proj.'],
  [/\.ffn\.(linear[12])\./, '.$1.'],
];

export const POSITIONAL_BUFFER = 'positional_encoding.pos_embedding';

export function toPyTorchName(name: string): string {
  return RULES.reduce((n, [re, to]) => n.replace(re, to), name);
}

/** Our tensor for `name` in PyTorch's layout (a view: the positional table gains its middle dim). */
export function toPyTorchLayout(name: string, t: Tensor): Tensor {
  if (name !== 'positionalEncoding.table') return t;
  return t.reshape([t.shape[0]!, 1, t.shape[1]!]);
}

/**
 * PyTorch's positional buffer [maxLen, 1, d] as our [maxLength, d] table: the first maxLength rows (the
 * tutorial keeps 5000).
 */
export function fromPyTorchPositional(t: Tensor, maxLength: number, dModel: number): Tensor {
  const [rows, one, d] = t.shape as [number, number, number];
  if (t.rank !== 3 || one !== 1 || d !== dModel || rows < maxLength) {
    throw new ShapeError(
      `Expected ${POSITIONAL_BUFFER} of shape [≥ ${maxLength}, 1, ${dModel}] (maxLength, 1, dModel) but received [${t.shape.join(', ')}]`,
    );
  }
  return new Tensor(t.toFloat32Array().subarray(0, maxLength * dModel), Object.freeze([maxLength, dModel]));
}

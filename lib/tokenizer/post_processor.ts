/**
 * What `encode(…, { addSpecial: true })` adds around a sequence: Hugging Face's `post_processor`
 * (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel) reduced to the ids before and after
 * a single sequence. Pairs of sequences are not encoded here.
 */
export interface PostProcessor {
  readonly json: Record<string, unknown>;
  readonly before: readonly number[];
  readonly after: readonly number[];
}

/** "<bos> $A <eos>", this package's own template. */
export function template(bos: [string, number], eos: [string, number]): PostProcessor {
  const part = ([token, id]: [string, number]) => ({ [token]: { id: token, ids: [id], tokens: [token] } });
  return {
    json: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos[0], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: eos[0], type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos[0], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: eos[0], type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: eos[0], type_id: 1 } },
      ],
      special_tokens: { ...part(bos), ...part(eos) },
    },
    before: [bos[1]],
    after: [eos[1]],
  };
}

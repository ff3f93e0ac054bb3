// What both consumers of the installed tarball run (see pack.test.ts), given the package as each loads it:
// a kernel, one training step of a tiny Transformer (autograd, layers, optimiser from the built dist/),
// a trained tokenizer's round trip, and decoding in the package's worker thread (dist/decode/worker.js).
module.exports = async function exercise({ BPETokenizer, backend, ops, optim, tensor, Transformer }) {
  const c = ops.matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2]));
  const model = new Transformer({ srcVocabSize: 9, tgtVocabSize: 9, dModel: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 16 });
  const loss = ops.crossEntropy(model.forward([[3, 4, 5]], [[1, 6]]).reshape([-1, 9]), new Int32Array([6, 2]));
  loss.backward();
  new optim.Adam(model.parameters(), { lr: 1e-3 }).step();
  const tok = BPETokenizer.train(['hello world', 'hello there'], { vocabSize: 40, minFrequency: 1 });
  const generated = await model.generate([[3, 4, 5], [6]], { strategy: 'beam', beamSize: 2, maxLength: 4 });
  const streamed = [];
  for await (const id of model.stream([[6]], { maxLength: 4 })) streamed.push(id);
  return {
    c: [...c.toFloat32Array()], simd: backend.info().simd, loss: loss.item(), text: tok.decode(tok.encode('hello world')), generated, streamed,
  };
};

// A CommonJS consumer of the installed tarball (see pack.test.ts).
const { ops, tensor, backend } = require('nodeformer');
const c = ops.matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2]));
console.log(JSON.stringify({ c: [...c.toFloat32Array()], simd: backend.info().simd }));

// A CommonJS consumer of the installed tarball (see pack.test.ts): exercise.cjs on the package through require.
console.log(JSON.stringify(require('./exercise.cjs')(require('nodeformer'))));

// A CommonJS consumer of the installed tarball (see pack.test.ts): exercise.cjs on the package through require.
require('./exercise.cjs')(require('nodeformer')).then((out) => console.log(JSON.stringify(out)));

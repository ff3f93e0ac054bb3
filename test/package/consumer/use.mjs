// An ES module consumer of the installed tarball (see pack.test.ts): exercise.cjs on the package through import.
import * as nodeformer from 'nodeformer';

import exercise from './exercise.cjs';

console.log(JSON.stringify(await exercise(nodeformer)));

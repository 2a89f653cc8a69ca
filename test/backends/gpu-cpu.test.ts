/** The GPU backend in gpu.js's cpu mode (kernels transpiled to JavaScript; always available). */
import { modeProblem } from '../../backends/gpu/index.js';
import { describeGpuMode } from './gpu-cases.js';

describeGpuMode('cpu', modeProblem('cpu'), 4);

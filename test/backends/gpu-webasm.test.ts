/** The GPU backend in gpu.js's webasm mode (kernels compiled to WebAssembly with SIMD). */
import { modeProblem } from '../../backends/gpu/index.js';
import { describeGpuMode } from './gpu-cases.js';

describeGpuMode('webasm', modeProblem('webasm'), 4);

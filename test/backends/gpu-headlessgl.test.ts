/**
 * The GPU backend in gpu.js's headlessgl mode (GLSL ES 1.00 through headless-gl). Runs only where a
 * GL context can be made, e.g. under `xvfb-run -a`; elsewhere the suite is skipped with the reason.
 */
import { modeProblem } from '../../backends/gpu/index.js';
import { describeGpuMode } from './gpu-cases.js';

// fewer runs than the other modes (which check the same kernel sources on more shapes): a GL compile
// costs 50-500 ms here, a convolution's the most
describeGpuMode('headlessgl', modeProblem('headlessgl'), 2, 1);

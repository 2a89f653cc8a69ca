// Tests write run folders and models to temporary folders: the file-system storage, as the CLI uses.
import { useNodeStorage } from '../node/storage.js';

useNodeStorage();

// Imported for its effect: zod's English messages, so that validation errors say what is wrong.
// The runtime uses zod's tree-shakable "mini" build (about 20 KB in a Lambda bundle, against about
// 450 KB for the full build), which ships without them. Import `zod/mini` by name where it is used,
// never through a re-exported namespace, or the bundler cannot drop what is unused.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

import { exampleApp } from './example-app';

// What `cdk.json` runs: the example deployment (see example-app.ts).
exampleApp().app.synth();

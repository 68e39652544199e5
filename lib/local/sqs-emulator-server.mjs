// Runs the fauxqs SQS emulator on a loopback port in its own process, so that it can be stopped by
// its PID. Prints {"port": N} on its first line of output once it listens. Exits when its parent
// goes away (the IPC channel closes), so an emulator is never left behind.
// fauxqs is an optional peer dependency: when it is missing, say so on the first line and exit.
let buildApp;
try {
  ({ buildApp } = await import('fauxqs'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stdout.write(`${JSON.stringify({ missing: 'fauxqs' })}\n`);
  process.exit(1);
}

const app = buildApp({ logger: false, host: '127.0.0.1' });
await app.listen({ port: Number(process.env.SLUICE_SQS_PORT ?? 0), host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
);

const stop = () => {
  app.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

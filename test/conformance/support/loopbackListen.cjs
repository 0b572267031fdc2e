// Preloaded (node --require) into the foreign servers the conformance suite starts: whatever host
// they ask for, they listen on 127.0.0.1 only, and the port they got is reported on stderr as
// `MAOF_LISTENING <port>` so the suite can start them on port 0 (an ephemeral port).
'use strict';
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  // listen(port[, host][, backlog][, cb]) or listen({port, host, ...}[, cb])
  if (args[0] !== null && typeof args[0] === 'object' && !Array.isArray(args[0]) && 'port' in args[0]) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const port = Number(args[0]);
    const rest = args.slice(1).filter((a) => typeof a === 'function');
    args = [port, '127.0.0.1', ...rest];
  }
  this.once('listening', () => {
    const addr = this.address();
    if (addr && typeof addr === 'object') process.stderr.write(`MAOF_LISTENING ${addr.port}\n`);
  });
  return listen.apply(this, args);
};

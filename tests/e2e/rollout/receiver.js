// A webhook receiver for the rollout tests: listens on 127.0.0.1 (a free
// port), writes the port to PORTFILE, and appends each POST's body as one
// line to BODIES. With "hang" it never answers (a webhook that times out).
//   node receiver.js PORTFILE BODIES [hang]
const http = require('http');
const fs = require('fs');
const [portFile, bodies, mode] = process.argv.slice(2);
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    fs.appendFileSync(bodies, body.replace(/\n/g, ' ') + '\n');
    if (mode === 'hang') return;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});

// An https.Agent that sends every request to one port on 127.0.0.1 whatever the URL's host,
// keeping that host as the TLS server name. firebase-admin talks to fixed Google hosts
// (oauth2.googleapis.com, fcm.googleapis.com); this is how its traffic reaches a fake.
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TcpNetConnectOpts } from 'node:net';
import type { ConnectionOptions } from 'node:tls';

export function loopbackAgent(port: number, ca: string): https.Agent {
  const agent = new https.Agent({ ca, keepAlive: true });
  const connect = agent.createConnection.bind(agent) as (
    options: TcpNetConnectOpts & ConnectionOptions,
    callback?: (err: Error | null, socket: Duplex) => void,
  ) => Duplex;
  // Override on the instance: the typings do not expose createConnection as overridable.
  Object.assign(agent, {
    createConnection: (
      options: TcpNetConnectOpts & ConnectionOptions,
      callback?: (err: Error | null, socket: Duplex) => void,
    ) =>
      connect(
        { ...options, servername: options.servername ?? options.host, host: '127.0.0.1', port },
        callback,
      ),
  });
  return agent;
}

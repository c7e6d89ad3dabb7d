// `tocsin admin reset-password`: the way back in when the super admin's password is lost. Whoever
// runs it has the server's configuration, hence its database, so it asks for no old password.
import { text } from 'node:stream/consumers';
import { resetAdminPassword } from '../domain/auth.js';
import type { Principal } from '../domain/principal.js';
import type { Services } from '../services.js';
import { CliError, EXIT, progress, say } from './output.js';

const operator: Principal = { kind: 'system' };

export async function adminResetPassword(
  services: Services,
  options: { email?: string; stdin: boolean },
): Promise<number> {
  const email = options.email ?? services.config.admin.email;
  let password: string | undefined;
  if (options.stdin) {
    // One line: `echo "$PW" | tocsin admin reset-password --stdin` adds a newline that is not part of it.
    password = (await text(process.stdin)).replace(/\r?\n$/, '');
    if (!password) throw new CliError('--stdin: nothing was read; pipe the new password in', EXIT.usage);
  }
  progress(`Setting a new password for ${email}`);
  const { generatedPassword } = await resetAdminPassword(services, operator, { email, password });
  say(`New password set for ${email}; every session of this admin has been ended.`);
  if (generatedPassword) say(`  password        ${generatedPassword}   <- shown only now`);
  return EXIT.ok;
}

// Loaded with `node --import` in a CLI child process: any module whose URL matches the
// FORBIDDEN_IMPORTS regular expression fails to load, so a test can prove a command never loads it.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    const forbidden = new RegExp(${JSON.stringify(process.env.FORBIDDEN_IMPORTS ?? '(?!)')});
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      if (forbidden.test(resolved.url)) throw new Error('forbidden import: ' + resolved.url);
      return resolved;
    }
  `)}`,
);

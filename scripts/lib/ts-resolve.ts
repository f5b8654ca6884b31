/*
 * Loaded with `node --import` by the scripts that reuse worker modules from src/: those import
 * each other without extensions (the bundler resolves them), which Node's own resolver refuses.
 * A relative specifier that does not resolve is retried as a `.ts` file, then as a directory's
 * `index.ts`; everything else resolves as Node resolves it.
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith('.') || /\.[cm]?[jt]s$/.test(specifier)) throw error;
      for (const candidate of [`${specifier}.ts`, `${specifier}/index.ts`]) {
        try {
          return nextResolve(candidate, context);
        } catch {
          // try the next form
        }
      }
      throw error;
    }
  },
});

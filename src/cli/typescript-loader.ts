import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { ConfigurationError } from '../core/errors';

let registered = false;

interface LoadableModule {
  _compile(code: string, filename: string): void;
}

/**
 * Lets `require` load TypeScript files (a consumer module given to `shardline run`), compiled with swc using legacy
 * decorators and decorator metadata, which dependency injection needs. Registered once per process.
 */
export function registerTypeScriptLoader(): void {
  if (registered) return;
  registered = true;
  const swc = loadSwc();
  const extensions = (Module as unknown as { _extensions: Record<string, (m: LoadableModule, filename: string) => void> })._extensions;
  extensions['.ts'] = (module, filename) => {
    const source = readFileSync(filename, 'utf8');
    const { code } = swc.transformSync(source, {
      filename,
      sourceMaps: 'inline',
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
}

/** @swc/core is a dependency of shardline; it can still be missing (an install with --no-optional on a platform whose binary is optional). */
function loadSwc(): typeof import('@swc/core') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a .ts module is run
    return require('@swc/core') as typeof import('@swc/core');
  } catch (error) {
    registered = false;
    throw new ConfigurationError(
      `cannot load @swc/core, which compiles TypeScript modules (${(error as Error).message.split('\n')[0]}): run \`npm install @swc/core\` in your project, or compile to JavaScript and run the .js file`,
      { cause: error },
    );
  }
}

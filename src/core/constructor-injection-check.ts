import { readConstructorParamTypes, readInjectionTokens } from '../decorators/metadata';
import { ConfigurationError } from './errors';

/** Constructors that the container cannot build from a type alone: what an interface, a union or a primitive compiles to. */
const NOT_INJECTABLE_BY_TYPE = new Set<unknown>([Object, String, Number, Boolean, Array, Function, Promise, Symbol, BigInt]);

/**
 * Checks that the container can build every constructor parameter of a consumer class: each needs either its type
 * in the decorator metadata (compiled with `emitDecoratorMetadata`, or swc's `decoratorMetadata`) or an
 * `@inject(TOKEN)`. Without this check such a parameter is silently `undefined` and the first sign is a `TypeError`
 * deep inside a handler.
 * @throws ConfigurationError naming the class, each parameter index and the fix.
 */
export function assertConstructorInjectable(ctor: abstract new (...args: never[]) => unknown): void {
  const paramTypes = readConstructorParamTypes(ctor);
  const tokens = readInjectionTokens(ctor);
  const count = Math.max(ctor.length, paramTypes?.length ?? 0);
  const problems: string[] = [];
  for (let index = 0; index < count; index++) {
    if (tokens.has(index)) continue;
    const type = paramTypes?.[index];
    if (paramTypes === undefined) {
      problems.push(`parameter #${index} has no type metadata`);
    } else if (type === undefined) {
      problems.push(`parameter #${index} has no type at run time (a circular import, or a type imported with \`import type\`)`);
    } else if (NOT_INJECTABLE_BY_TYPE.has(type)) {
      problems.push(`parameter #${index} is typed as an interface, a union or a primitive (${(type as { name: string }).name} at run time)`);
    }
  }
  if (problems.length === 0) return;
  const fix =
    paramTypes === undefined
      ? 'compile with "experimentalDecorators" and "emitDecoratorMetadata" in tsconfig.json (swc: jsc.transform.legacyDecorator and decoratorMetadata; esbuild and tsx do not emit metadata), or give each parameter @inject(TOKEN)'
      : 'give it @inject(TOKEN) and register TOKEN (a provider, or container.register), or type it with a class';
  throw new ConfigurationError(`${ctor.name}: constructor ${problems.join('; ')}, so it cannot be injected: ${fix}`);
}

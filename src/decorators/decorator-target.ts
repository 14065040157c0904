import { InvalidDecoratorError } from '../core/errors';

/** Names `Class.member` for error messages, for an instance member's prototype or a constructor. */
export function describeMember(target: object, member: string | symbol): string {
  const className = typeof target === 'function' ? (target as { name: string }).name : target.constructor.name;
  return `${className}.${String(member)}`;
}

/** Checks that a member decorator sits on an instance method, and returns the method's name. */
export function requireInstanceMethod(
  decorator: string,
  target: object,
  member: string | symbol,
  descriptor: PropertyDescriptor | undefined,
): string {
  const where = describeMember(target, member);
  if (typeof target === 'function') {
    throw new InvalidDecoratorError(`@${decorator} on ${where}: decorate an instance method, not a static one`);
  }
  if (descriptor === undefined || typeof descriptor.value !== 'function') {
    throw new InvalidDecoratorError(`@${decorator} on ${where}: it decorates methods only`);
  }
  if (typeof member === 'symbol') {
    throw new InvalidDecoratorError(`@${decorator} on ${where}: use a method with a string name`);
  }
  return member;
}

import { Command } from 'commander';
import { type CliAdapter } from './cli-adapter';
import { ConfigurationError } from '../core/errors';

/** Placeholder for a command whose implementation lands in a later change (removed once every command is built). */
export function pendingCommand(name: string, description: string): Command {
  return new Command(name).description(description).allowUnknownOption().action(() => {
    throw new ConfigurationError(`'shardline ${name}' is not available in this build yet`);
  });
}

/** Placeholder for an adapter whose implementation lands in a later change. */
export function pendingAdapter(name: string, description: string): CliAdapter {
  return {
    name,
    description,
    setup: () => Promise.reject(new ConfigurationError(`the ${name} adapter is not available in this build yet`)),
  };
}

/** An error with a stable code, so callers branch on `code`, never on message text. */
export class SpillwayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SpillwayError';
  }
}

/** A setting (environment variable or CLI flag) is wrong; the message names it. */
export class ConfigError extends SpillwayError {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super('config_invalid', `${setting}: ${message}`, { setting });
    this.name = 'ConfigError';
  }
}

/** A dependency the process needs at start (Redis, Kafka, a directory) cannot be used. */
export class DependencyError extends SpillwayError {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super('dependency_unavailable', `${setting}: ${message}`, { setting });
    this.name = 'DependencyError';
  }
}

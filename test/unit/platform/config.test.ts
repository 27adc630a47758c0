import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.js';

describe('configuration', () => {
  it('defaults to the embedded stack under ./.steward', () => {
    const config = loadConfig({}, '/work/project');
    expect(config.home).toBe('/work/project/.steward');
    expect(config.temporal).toEqual({ address: undefined, namespace: 'default', cliPath: undefined, devServerPort: 7233, devServerUiPort: 8233 });
    expect(config.database).toEqual({ url: undefined, pgliteDir: path.join('/work/project/.steward', 'pglite') });
    expect(config.api).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.taskQueue).toBe('steward');
  });

  it('switches to an external cluster and PostgreSQL from named variables', () => {
    const config = loadConfig(
      { TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'ml', DATABASE_URL: 'postgres://u@db/steward', STEWARD_API_PORT: '9000' },
      '/p',
    );
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.temporal.namespace).toBe('ml');
    expect(config.database.url).toBe('postgres://u@db/steward');
    expect(config.api.port).toBe(9000);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: '  ' }, '/p').database.url).toBeUndefined();
  });

  it('names the variable and the accepted range when a port is not a port', () => {
    expect(() => loadConfig({ STEWARD_TEMPORAL_PORT: 'seventy' }, '/p')).toThrow('STEWARD_TEMPORAL_PORT=seventy is not a port number (0 to 65535).');
    expect(() => loadConfig({ STEWARD_API_PORT: '70000' }, '/p')).toThrow('STEWARD_API_PORT=70000 is not a port number');
  });

  it('reads the aliases a project protects besides champion and production, refusing names no alias can have', () => {
    expect(loadConfig({}, '/p').registry.protectedAliases).toEqual([]);
    expect(loadConfig({ STEWARD_PROTECTED_ALIASES: ' staging, canary ,,staging' }, '/p').registry.protectedAliases).toEqual(['staging', 'canary']);
    expect(() => loadConfig({ STEWARD_PROTECTED_ALIASES: 'staging,Prod 1' }, '/p')).toThrow(
      'STEWARD_PROTECTED_ALIASES lists "Prod 1": alias names are lowercase letters, digits and dashes, starting with a letter (e.g. champion,staging).',
    );
  });

  it('refuses an unknown log level', () => {
    expect(() => loadConfig({ STEWARD_LOG_LEVEL: 'loud' }, '/p')).toThrow('STEWARD_LOG_LEVEL=loud is not one of debug, info, warn, error.');
  });
});

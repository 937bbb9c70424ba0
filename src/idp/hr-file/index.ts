// The HR file source's registration, read by src/idp/identity-source-table.ts.
import type { IdentitySourceRegistration } from '../identity-source-registration.js';
import { HR_FILE_SOURCE, hrFileSourceFrom } from './hr-file-source.js';

export const hrFileSourceRegistration: IdentitySourceRegistration = {
  name: HR_FILE_SOURCE,
  description: 'the HR export (CSV: email,name,team,status,left_at; or YAML); option `file`',
  create: (options, context) => hrFileSourceFrom(options, context.cwd),
};

// Every test file runs with its worker's database and Redis prefix in the environment, so
// code that reads process.env (child processes, loadConfig()) lands in the right place.
import { testEnv } from '../support/env.js';

Object.assign(process.env, testEnv());

#!/usr/bin/env node
// `npm run bench [-- NAME...]`: runs bench/NAME.ts (all of them when none is named).
import { register } from 'tsx/esm/api'

register()
await import('../bench/index.ts')

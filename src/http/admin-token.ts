// The admin token: STEWARD_ADMIN_TOKEN, or one generated on first start, kept (mode 0600) in the
// data dir and printed once, when it is generated. It is never logged.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export async function ensureAdminToken(
  configured: string | undefined,
  dataDir: string,
  announce: (token: string, file: string) => void,
): Promise<string> {
  if (configured) return configured
  const file = join(dataDir, 'admin-token')
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  await mkdir(dataDir, { recursive: true })
  const token = `stw_admin_${randomBytes(24).toString('base64url')}`
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    // Another instance on the same data dir won the race: use its token.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  })
  const saved = (await readFile(file, 'utf8')).trim()
  if (saved === token) announce(token, file)
  return saved
}

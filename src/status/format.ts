// Times and durations as the status page and the feed write them (UTC, plain words).

/** 2026-03-05T14:05:09.123Z → "2026-03-05 14:05 UTC". */
export const utc = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`

/** 42 → "42 s", 720 → "12 min", 4800 → "1 h 20 min", 180000 → "2 d 2 h". */
export function duration(seconds: number): string {
  const s = Math.round(Math.abs(seconds))
  if (s < 60) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`
  const d = Math.floor(h / 24)
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`
}

/** The estimate relative to `now`: "in about 3 min", or "overdue by 12 min". */
export function untilEstimate(estimate: string, now: string): string {
  const s = (Date.parse(estimate) - Date.parse(now)) / 1000
  return s >= 0 ? `in about ${duration(s)}` : `overdue by ${duration(s)}`
}

/** How a resolved incident compared with its estimate. */
export function againstEstimate(differenceSeconds: number): string {
  if (Math.abs(differenceSeconds) < 30) return 'on time, as estimated'
  return differenceSeconds > 0
    ? `${duration(differenceSeconds)} later than estimated`
    : `${duration(differenceSeconds)} earlier than estimated`
}

// A progress bar on stderr: redrawn in place on a terminal, a line per quarter otherwise (CI logs).
export interface Progress {
  tick(n?: number): void
  done(note?: string): void
}

export function progress(label: string, total: number, out: NodeJS.WriteStream = process.stderr): Progress {
  let count = 0
  let lastQuarter = -1
  const started = Date.now()
  const width = 28
  const draw = (final = false, note = '') => {
    const share = total ? Math.min(1, count / total) : 1
    const secs = ((Date.now() - started) / 1000).toFixed(1)
    if (out.isTTY) {
      const filled = Math.round(share * width)
      out.write(
        `\r  ${label.padEnd(34)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${secs}s ${note}`,
      )
      if (final) out.write('\n')
      return
    }
    const quarter = Math.floor(share * 4)
    if (quarter > lastQuarter || (final && note)) {
      lastQuarter = quarter
      out.write(
        `  ${label}: ${Math.round(share * 100)}% (${count}/${total}, ${secs}s)${note ? ` ${note}` : ''}\n`,
      )
    }
  }
  return {
    tick(n = 1) {
      count += n
      draw()
    },
    done(note = '') {
      count = total
      draw(true, note)
    },
  }
}

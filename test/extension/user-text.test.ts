import { describe, expect, it } from 'vitest'
import { withoutCommands } from '../../extension/user-text'

describe('the panel leaves out sentences that tell the user to type a command', () => {
  it('drops the clause naming a command, keeps the facts', () => {
    expect(withoutCommands('2 things to repair; run `comfydock -e art repair`')).toBe('2 things to repair')
    expect(withoutCommands('Commit first: `comfydock -e art commit -m "Pre-export checkpoint"`.')).toBe('')
    expect(withoutCommands('The file was discarded. Run `cfd model download X` to fetch it again.')).toBe('The file was discarded.')
  })

  it('says "try again" where the CLI says to run the same command again', () => {
    expect(withoutCommands('Run the same command again: it resumes after the 512 bytes already here.')).toBe('Try again: it resumes after the 512 bytes already here.')
    expect(withoutCommands('Check the URL and the network, then run the same command again.')).toBe('Check the URL and the network, then try again.')
  })

  it('leaves text without a command as it is', () => {
    expect(withoutCommands('Check the URL and the network.')).toBe('Check the URL and the network.')
  })
})

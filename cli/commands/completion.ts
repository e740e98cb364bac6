// `mmsim completion`: a bash completion script for commands, state views and options, generated
// from the same command tree that parses the command line, so it cannot fall out of date.
import type { Command } from 'commander'
import { EXIT_OK } from '../io'
import type { CommandSpec } from '../command'

/** Every command path (`run`, `state zone`) and the words that may follow it. */
const completions = (program: Command): [string, string[]][] => {
  const out: [string, string[]][] = [['', [...program.commands.map((c) => c.name()), '--help', '--version']]]
  const walk = (cmd: Command, path: string): void => {
    const subs = cmd.commands.filter((c) => c.name() !== 'help')
    const words = [...subs.map((c) => c.name()), ...cmd.options.map((o) => o.long ?? '').filter((l) => l !== ''), '--help']
    out.push([path, words])
    for (const s of subs) walk(s, `${path} ${s.name()}`)
  }
  for (const c of program.commands) if (c.name() !== 'help') walk(c, c.name())
  return out
}

export const bashCompletion = (program: Command): string => {
  const cases = completions(program)
    .map(([path, words]) => `    ${JSON.stringify(path)}) words=${JSON.stringify(words.join(' '))} ;;`)
    .join('\n')
  return `# bash completion for mmsim: source <(mmsim completion)
_mmsim() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) break ;; esac
    path="\${path:+$path }\${COMP_WORDS[i]}"
  done
  local words
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _mmsim mmsim
`
}

export const completionSpec = (program: () => Command): CommandSpec<Record<string, never>> => ({
  name: 'completion',
  summary: 'print a bash completion script',
  description:
    'Prints a bash completion script for the commands, the state views and every option. Load it with `source <(mmsim completion)`, or save it under /etc/bash_completion.d/.',
  examples: ['mmsim completion > ~/.local/share/bash-completion/completions/mmsim', 'source <(mmsim completion)'],
  options: {},
  action: (_opts, { io }) => {
    io.out(bashCompletion(program()))
    return EXIT_OK
  },
})

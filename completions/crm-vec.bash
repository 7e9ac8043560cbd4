_crm__vec() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="crm__vec"
                ;;
            crm__vec,completions)
                cmd="crm__vec__subcmd__completions"
                ;;
            crm__vec,config)
                cmd="crm__vec__subcmd__config"
                ;;
            crm__vec,delete)
                cmd="crm__vec__subcmd__delete"
                ;;
            crm__vec,full-rebuild)
                cmd="crm__vec__subcmd__full__subcmd__rebuild"
                ;;
            crm__vec,help)
                cmd="crm__vec__subcmd__help"
                ;;
            crm__vec,man)
                cmd="crm__vec__subcmd__man"
                ;;
            crm__vec,mcp)
                cmd="crm__vec__subcmd__mcp"
                ;;
            crm__vec,search)
                cmd="crm__vec__subcmd__search"
                ;;
            crm__vec,serve)
                cmd="crm__vec__subcmd__serve"
                ;;
            crm__vec,status)
                cmd="crm__vec__subcmd__status"
                ;;
            crm__vec,sync-new)
                cmd="crm__vec__subcmd__sync__subcmd__new"
                ;;
            crm__vec,sync-record)
                cmd="crm__vec__subcmd__sync__subcmd__record"
                ;;
            crm__vec__subcmd__config,help)
                cmd="crm__vec__subcmd__config__subcmd__help"
                ;;
            crm__vec__subcmd__config,show)
                cmd="crm__vec__subcmd__config__subcmd__show"
                ;;
            crm__vec__subcmd__config__subcmd__help,help)
                cmd="crm__vec__subcmd__config__subcmd__help__subcmd__help"
                ;;
            crm__vec__subcmd__config__subcmd__help,show)
                cmd="crm__vec__subcmd__config__subcmd__help__subcmd__show"
                ;;
            crm__vec__subcmd__help,completions)
                cmd="crm__vec__subcmd__help__subcmd__completions"
                ;;
            crm__vec__subcmd__help,config)
                cmd="crm__vec__subcmd__help__subcmd__config"
                ;;
            crm__vec__subcmd__help,delete)
                cmd="crm__vec__subcmd__help__subcmd__delete"
                ;;
            crm__vec__subcmd__help,full-rebuild)
                cmd="crm__vec__subcmd__help__subcmd__full__subcmd__rebuild"
                ;;
            crm__vec__subcmd__help,help)
                cmd="crm__vec__subcmd__help__subcmd__help"
                ;;
            crm__vec__subcmd__help,man)
                cmd="crm__vec__subcmd__help__subcmd__man"
                ;;
            crm__vec__subcmd__help,mcp)
                cmd="crm__vec__subcmd__help__subcmd__mcp"
                ;;
            crm__vec__subcmd__help,search)
                cmd="crm__vec__subcmd__help__subcmd__search"
                ;;
            crm__vec__subcmd__help,serve)
                cmd="crm__vec__subcmd__help__subcmd__serve"
                ;;
            crm__vec__subcmd__help,status)
                cmd="crm__vec__subcmd__help__subcmd__status"
                ;;
            crm__vec__subcmd__help,sync-new)
                cmd="crm__vec__subcmd__help__subcmd__sync__subcmd__new"
                ;;
            crm__vec__subcmd__help,sync-record)
                cmd="crm__vec__subcmd__help__subcmd__sync__subcmd__record"
                ;;
            crm__vec__subcmd__help__subcmd__config,show)
                cmd="crm__vec__subcmd__help__subcmd__config__subcmd__show"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        crm__vec)
            opts="-q -v -h -V --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version full-rebuild sync-record sync-new delete search status mcp serve completions man config help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__completions)
            opts="-q -v -h -V --write --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version bash elvish fish powershell zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --write)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__config)
            opts="-q -v -h -V --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version show help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__config__subcmd__help)
            opts="show help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__config__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__config__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__config__subcmd__show)
            opts="-q -v -h -V --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__delete)
            opts="-q -v -h -V --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__full__subcmd__rebuild)
            opts="-q -v -h -V --keep-previous --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help)
            opts="full-rebuild sync-record sync-new delete search status mcp serve completions man config help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__config)
            opts="show"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__config__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__delete)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__full__subcmd__rebuild)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__man)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__mcp)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__search)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__serve)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__sync__subcmd__new)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__help__subcmd__sync__subcmd__record)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__man)
            opts="-q -v -h -V --write --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --write)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__mcp)
            opts="-q -v -h -V --read-only --listen --allow-unauthenticated --wait-timeout --settle-delay --reconcile-every --not-found-window --retry-base --max-attempts --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --settle-delay)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --reconcile-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --not-found-window)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-base)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__search)
            opts="-q -v -h -V --limit --stage --salesperson --team --type --min-revenue --max-revenue --include-archived --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --limit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stage)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --salesperson)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --team)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --type)
                    COMPREPLY=($(compgen -W "lead opportunity" -- "${cur}"))
                    return 0
                    ;;
                --min-revenue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-revenue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__serve)
            opts="-q -v -h -V --host --port --allow-unauthenticated --wait-timeout --settle-delay --reconcile-every --not-found-window --retry-base --max-attempts --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --wait-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --settle-delay)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --reconcile-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --not-found-window)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-base)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__status)
            opts="-q -v -h -V --deep --check --max-lag --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --max-lag)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__sync__subcmd__new)
            opts="-q -v -h -V --since --dry-run --no-prune --refresh-payload --overlap --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --since)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --overlap)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        crm__subcmd__vec__subcmd__sync__subcmd__record)
            opts="-q -v -h -V --odoo-url --odoo-db --odoo-username --odoo-protocol --data-dir --collection --embeddings-provider --archived --lock-timeout --json --quiet --verbose --color --no-progress --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --odoo-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --odoo-protocol)
                    COMPREPLY=($(compgen -W "auto json2 jsonrpc" -- "${cur}"))
                    return 0
                    ;;
                --data-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --collection)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --embeddings-provider)
                    COMPREPLY=($(compgen -W "voyage openai local none" -- "${cur}"))
                    return 0
                    ;;
                --archived)
                    COMPREPLY=($(compgen -W "remove keep" -- "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _crm__vec -o nosort -o bashdefault -o default crm-vec
else
    complete -F _crm__vec -o bashdefault -o default crm-vec
fi

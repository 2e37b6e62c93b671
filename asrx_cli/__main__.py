from asrx_cli.cli import main

main()

from seqtool.cli.app import main

main()

from kubetenancy.cli.main import main

main()
